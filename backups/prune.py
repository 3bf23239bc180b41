"""Retention: which backups to keep (the newest N, and the newest of each of the last D days
that have backups, and everything a kept backup is restored from); the rest is removed."""

from __future__ import annotations

from dataclasses import dataclass

from backups.catalog import Catalog
from backups.manifest import Manifest


@dataclass(frozen=True)
class PrunePlan:
    keep: list[str]
    remove: list[str]
    needed: list[str]  # kept only because a kept backup is restored from them


def plan_prune(manifests: list[Manifest], keep_last: int, keep_daily: int) -> PrunePlan:
    newest_first = sorted(manifests, key=lambda m: m.id, reverse=True)
    chosen = {m.id for m in newest_first[:keep_last]}
    days: list[str] = []
    for manifest in newest_first:
        day = manifest.created_at.date().isoformat()
        if day not in days:
            days.append(day)
            if len(days) <= keep_daily:
                chosen.add(manifest.id)
    by_id = {m.id: m for m in manifests}
    needed = {source for kept in chosen for source in by_id[kept].chain} - chosen
    keep = chosen | needed
    return PrunePlan(
        keep=sorted(keep),
        remove=sorted(set(by_id) - keep),
        needed=sorted(needed),
    )


def prune(catalog: Catalog, keep_last: int, keep_daily: int, *, dry_run: bool) -> PrunePlan:
    manifests = catalog.manifests()
    plan = plan_prune(manifests, keep_last, keep_daily)
    if not dry_run:
        for manifest in manifests:
            if manifest.id in plan.remove:
                catalog.remove(manifest)
    return plan
