"""Devlogs: what agents write about their work, posted to the operator's devlog channel
(through the running bot or a Discord webhook), optionally topped by an AI summary.

Every devlog is kept in the store before it is posted; posting and summaries never lose
one. The watchers that route outbox and devlog files run from :mod:`devlogs.watching`.
"""
