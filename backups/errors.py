"""The exceptions of the backups package; each message says what was wrong and what to do."""

from __future__ import annotations


class BackupError(Exception):
    """A backup cannot be made, found, verified or restored."""


class UnknownBackupError(BackupError):
    """No backup has the id asked for."""


class WrongKeyError(BackupError):
    """An archive was encrypted with another key than the one configured (or none is)."""


class VerifyError(BackupError):
    """What a backup holds does not match its manifest; ``problems`` names each file."""

    def __init__(self, backup_id: str, problems: list[str]) -> None:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        super().__init__(
            f"backup {backup_id} failed verification: {shown}; do not restore it, make a new "
            "backup (`cellphone backup create`) and restore an older one if needed"
        )
        self.backup_id = backup_id
        self.problems = problems


class RestoreRefusedError(BackupError):
    """A restore would touch live state without ``--force``, or a coordinator runs."""


class DamagedStoreError(BackupError):
    """The store fails its integrity check: the coordinator must not start on it."""
