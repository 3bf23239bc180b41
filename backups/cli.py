"""``cellphone backup create | list | verify | restore | prune | drill | key`` and
``cellphone doctor``.

Exit codes: 0 done, 1 a check failed (verification, drill, doctor), 2 bad input or a
refused restore. Importing this module stays light: the commands import the backup
machinery (service, doctor, crypto) themselves, as the root ``cellphone`` module explains."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from backups.errors import BackupError, VerifyError
from config.cli import (
    HomeOption,
    JsonOption,
    console,
    error_console,
    open_home,
    print_json,
    styled,
)

if TYPE_CHECKING:
    from rich.text import Text

    from backups.doctor import Status
    from backups.service import BackupRow, Backups

EXIT_CHECK_FAILED = 1

app = typer.Typer(
    help="Verified backups of the store, config, workspaces and devlogs; restore and drills.",
    no_args_is_help=True,
)


def _backups(home: Path | None) -> Backups:
    from backups.service import Backups

    where, settings = open_home(home)
    return Backups(where, settings.backups)


@app.command()
def create(
    incremental: Annotated[
        bool, typer.Option("--incremental", help="Only what changed since the last backup.")
    ] = False,
    differential: Annotated[
        bool, typer.Option("--differential", help="Only what changed since the last full one.")
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Back up the home (a consistent snapshot of the store even while it is in use),
    then verify the archive."""
    if incremental and differential:
        raise BackupError("--incremental and --differential exclude each other; pick one")
    from config.settings import BackupKind

    kind = (
        BackupKind.INCREMENTAL
        if incremental
        else BackupKind.DIFFERENTIAL
        if differential
        else BackupKind.FULL
    )
    backups = _backups(home)
    manifest = backups.create(kind)
    _verified_or_exit(backups, manifest.id)
    row = next(r for r in backups.rows() if r.manifest.id == manifest.id)
    if as_json:
        print_json(_row_json(row))
        return
    stored = len(manifest.stored_here())
    console().print(
        f"backup {manifest.id} ({manifest.kind}) made and verified: {len(manifest.files)} "
        f"files, {stored} pieces stored in this archive, {_mb(row.archive_size)} at "
        f"{backups.catalog.archive(manifest)}"
    )


@app.command(name="list")
def list_(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Every backup, oldest first: id, kind, time, size, files, last verification."""
    rows = _backups(home).rows()
    if as_json:
        print_json([_row_json(r) for r in rows])
        return
    from rich.table import Table

    table = Table("id", "kind", "made", "archive", "files", "parent", "last verified")
    for row in rows:
        m = row.manifest
        table.add_row(
            m.id,
            str(m.kind) + (" 🔒" if m.key_id else ""),
            _when(m.created_at),
            _mb(row.archive_size),
            str(len(m.files)),
            m.parent or "-",
            _verified(row),
        )
    console().print(table)
    if not rows:
        console().print("no backups yet: `cellphone backup create` makes one")


@app.command(name="verify")
def verify_(
    backup_id: Annotated[str | None, typer.Argument(help="The backup to verify.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Verify every backup.")] = False,
    home: HomeOption = None,
) -> None:
    """Recompute every hash of a backup's archive; name each file that does not match."""
    if (backup_id is None) == (not all_):
        raise BackupError("give a backup id or --all (not both); `cellphone backup list` shows ids")
    backups = _backups(home)
    if backup_id is not None:
        _verified_or_exit(backups, backup_id)
        console().print(f"backup {backup_id}: every hash matches")
        return
    outcome = backups.verify_all()
    for checked, problems in outcome.items():
        console().print(f"{checked}: " + ("ok" if not problems else "FAILED"))
        for problem in problems:
            error_console().print(f"  {problem}")
    if any(outcome.values()):
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command(name="restore")
def restore_(
    backup_id: Annotated[str | None, typer.Argument(help="The backup to restore.")] = None,
    at: Annotated[
        str | None,
        typer.Option(
            help="Point in time (ISO 8601, local time unless it says): the newest "
            "verified backup made at or before it."
        ),
    ] = None,
    to: Annotated[
        Path | None, typer.Option(help="Restore into this folder instead of the home.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every hash and say what would be written.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the live home (or a folder that is not empty).")
    ] = False,
    home: HomeOption = None,
) -> None:
    """Restore a backup with every backup it builds on. Writes beside the target and swaps
    only once every file checked out; never while a coordinator runs on the target."""
    if (backup_id is None) == (at is None):
        raise BackupError("give a backup id or --at TIME (not both); `cellphone backup list`")
    when = parse_time(at) if at is not None else None
    backups = _backups(home)
    try:
        result = backups.restore(backup_id, at=when, to=to, force=force, dry_run=dry_run)
    except VerifyError as exc:
        _fail(exc)
    verb = "would restore" if result.dry_run else "restored"
    console().print(
        f"{verb} backup {result.backup_id} (chain {', '.join(result.chain)}): "
        f"{result.files} files, {_mb(result.size)} into {result.target} "
        f"in {result.seconds:.2f} s"
    )
    if result.replaced is not None:
        console().print(f"what it replaced is kept in {result.replaced}")


@app.command()
def prune(
    keep_last: Annotated[
        int | None, typer.Option(min=1, help="Keep the newest N (default backups.keep_last).")
    ] = None,
    keep_daily: Annotated[
        int | None,
        typer.Option(min=0, help="And the newest of each of the last D days (backups.keep_daily)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would go.")] = False,
    home: HomeOption = None,
) -> None:
    """Remove backups the retention policy does not keep (never one a kept backup needs)."""
    backups = _backups(home)
    plan = backups.prune(
        keep_last or backups.settings.keep_last,
        backups.settings.keep_daily if keep_daily is None else keep_daily,
        dry_run=dry_run,
    )
    verb = "would remove" if dry_run else "removed"
    console().print(f"kept {len(plan.keep)}, {verb} {len(plan.remove)}")
    for removed in plan.remove:
        console().print(f"  {verb} {removed}")
    if plan.needed:
        console().print(f"kept because newer backups build on them: {', '.join(plan.needed)}")


@app.command()
def drill(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Restore the newest backup into a temporary folder, check it, and time it against
    the recovery-time objective (backups.rto_seconds)."""
    try:
        result = _backups(home).drill()
    except VerifyError as exc:
        _fail(exc)
    if as_json:
        print_json(
            {
                "backup": result.backup_id,
                "chain": result.chain,
                "files": result.files,
                "bytes": result.size,
                "seconds": round(result.seconds, 3),
                "rto_seconds": result.rto_seconds,
                "problems": result.problems,
                "ok": result.ok,
            }
        )
    else:
        console().print(
            f"drill: restored backup {result.backup_id} ({len(result.chain)} archives, "
            f"{result.files} files, {_mb(result.size)}) in {result.seconds:.2f} s; "
            f"recovery-time objective {result.rto_seconds:g} s"
        )
        for problem in result.problems:
            error_console().print(f"  {problem}")
        if result.seconds > result.rto_seconds:
            error_console().print("drill FAILED: slower than the recovery-time objective")
        console().print("drill passed" if result.ok else "drill FAILED")
    if not result.ok:
        raise typer.Exit(EXIT_CHECK_FAILED)


@app.command()
def key(
    path: Annotated[
        Path, typer.Argument(help="Where to write the new key (not an existing file).")
    ],
) -> None:
    """Make a new encryption key file; set backups.key_file to it to encrypt archives."""
    from backups.crypto import make_key_file

    made = make_key_file(path)
    console().print(
        f'key {made.id} written to {path}; set backups.key_file = "{path}" and keep a copy '
        "away from this machine: without it no encrypted backup can be restored"
    )


def doctor(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Check what the swarm needs to keep running and to recover: display, clipboard tool,
    agents' points, workspaces, store, queue, backups, Discord settings, free disk."""
    from backups.doctor import run_checks

    where, settings = open_home(home)
    checks = run_checks(where, settings)
    if as_json:
        print_json(
            [
                {"check": c.name, "status": str(c.status), "detail": c.detail, "fix": c.fix}
                for c in checks
            ]
        )
    else:
        from rich.table import Table

        table = Table("check", "status", "detail", "how to fix")
        for c in checks:
            table.add_row(c.name, _status(c.status), c.detail, c.fix)
        console().print(table)
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(EXIT_CHECK_FAILED)


def register(root: typer.Typer) -> None:
    """Add ``backup ...`` and ``doctor`` to the ``cellphone`` command."""
    root.add_typer(app, name="backup")
    root.command()(doctor)


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (local unless it names its zone), or ``now``."""
    if text.strip().lower() == "now":
        return datetime.now().astimezone()
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BackupError(
            f"--at {text!r} is not a time; write it like 2026-11-29T14:30 or "
            "2026-11-29T14:30:00+00:00"
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


def _verified_or_exit(backups: Backups, backup_id: str) -> None:
    try:
        backups.verify(backup_id)
    except VerifyError as exc:
        _fail(exc)


def _fail(exc: VerifyError) -> NoReturn:
    error_console().print(f"error: {exc}")
    for problem in exc.problems:
        error_console().print(f"  {problem}")
    raise typer.Exit(EXIT_CHECK_FAILED)


def _status(status: Status) -> Text:
    color = {"ok": "green", "warn": "yellow", "fail": "red"}[status]
    return styled((str(status), color))


def _verified(row: BackupRow) -> str | Text:
    if row.verified is None:
        return "never"
    when = _when(row.verified.at)
    return when if row.verified.ok else styled(when, (" FAILED", "red"))


def _row_json(row: BackupRow) -> dict[str, object]:
    m = row.manifest
    return {
        "id": m.id,
        "kind": str(m.kind),
        "created_at": m.created_at,
        "parent": m.parent,
        "encrypted": m.key_id is not None,
        "archive_bytes": row.archive_size,
        "files": len(m.files),
        "bytes": m.size,
        "chain": m.chain,
        "verified_at": row.verified.at if row.verified else None,
        "verified_ok": row.verified.ok if row.verified else None,
    }


def _when(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"
