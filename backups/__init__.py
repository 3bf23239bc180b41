"""Backups and continuity of a home: verified archives of the store, config, workspaces and
devlogs (full, incremental, differential, optionally encrypted), restore, prune, drills, the
schedule a running coordinator keeps, and the ``doctor`` checks."""
