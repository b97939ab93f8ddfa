"""Value objects for the integrity and upkeep operations: diff, gc, pins and doctor.

Each is built from the library's result document (schema 1) and keeps it in ``raw``, so fields
added by newer libraries are never lost, only not yet typed. Nothing here decides anything: every
verdict (what changed, what gc may delete, whether the repository is healthy) is the library's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Mapping, Optional

from .models import _str_list, parse_time

__all__ = [
    "DiffEntry",
    "Diff",
    "ProtectedSnapshot",
    "GcPlan",
    "GcResult",
    "Pin",
    "Finding",
    "Repair",
    "DoctorReport",
]


def _opt_str(d: Mapping[str, Any], key: str) -> Optional[str]:
    v = d.get(key)
    return str(v) if v is not None else None


def _opt_int(d: Mapping[str, Any], key: str) -> Optional[int]:
    v = d.get(key)
    return int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _opt_time(d: Mapping[str, Any], key: str) -> Optional[datetime]:
    v = d.get(key)
    return parse_time(str(v)) if v else None


def _mappings(v: Any) -> List[Mapping[str, Any]]:
    return [x for x in v if isinstance(x, Mapping)] if isinstance(v, list) else []


# ---- diff ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DiffEntry:
    """One path that differs between the two sides of a :class:`Diff`.

    ``type`` is ``"file"``, ``"dir"`` or ``"symlink"`` (the new side's type for a modification).
    ``change`` is ``"added"`` or ``"removed"`` for entries of those lists, else the library's
    kind of modification: ``"content"``, ``"mode"``, ``"type"`` (then ``old_type`` says what it
    was) or ``"target"`` (a symlink's). Modes are octal strings (``"0644"``); hashes are SHA-256
    hex, present when the library knew them without reading extra files.
    """

    path: str
    type: str
    change: str
    old_type: Optional[str] = None
    old_mode: Optional[str] = None
    new_mode: Optional[str] = None
    old_size: Optional[int] = None
    new_size: Optional[int] = None
    old_hash: Optional[str] = None
    new_hash: Optional[str] = None
    old_target: Optional[str] = None
    new_target: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], change: str) -> "DiffEntry":
        """Build from one entry of a diff document; ``change`` is used when it has none."""
        return cls(
            path=str(d.get("path", "")),
            type=str(d.get("type", "")),
            change=str(d.get("change") or change),
            old_type=_opt_str(d, "old_type"),
            old_mode=_opt_str(d, "old_mode"),
            new_mode=_opt_str(d, "new_mode"),
            old_size=_opt_int(d, "old_size"),
            new_size=_opt_int(d, "new_size"),
            old_hash=_opt_str(d, "old_hash"),
            new_hash=_opt_str(d, "new_hash"),
            old_target=_opt_str(d, "old_target"),
            new_target=_opt_str(d, "new_target"),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Diff:
    """What ``Workspace.diff`` found: paths added, removed and modified going from
    ``from_snapshot_id`` to ``to_snapshot_id`` (or to the live files of ``to_worktree``).

    True in a boolean context when anything differs. With ``stat=True`` the lists are empty and
    only ``totals`` (``{"added": n, "removed": n, "modified": n}``) is filled.
    """

    from_snapshot_id: str
    to_snapshot_id: Optional[str]
    to_worktree: Optional[str]
    added: List[DiffEntry]
    removed: List[DiffEntry]
    modified: List[DiffEntry]
    totals: Dict[str, int]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Diff":
        def entries(key: str, change: str) -> List[DiffEntry]:
            return [DiffEntry.from_dict(x, change) for x in _mappings(d.get(key))]

        totals = d.get("totals") or {}
        return cls(
            from_snapshot_id=str(d.get("from_snapshot_id", "")),
            to_snapshot_id=_opt_str(d, "to_snapshot_id"),
            to_worktree=_opt_str(d, "to_worktree"),
            added=entries("added", "added"),
            removed=entries("removed", "removed"),
            modified=entries("modified", "modified"),
            totals={str(k): int(v) for k, v in totals.items() if isinstance(v, int)},
            raw=dict(d),
        )

    @property
    def changes(self) -> List[DiffEntry]:
        """Every entry (added, removed and modified), in path order."""
        return sorted(self.added + self.removed + self.modified, key=lambda e: e.path)

    def __bool__(self) -> bool:
        return any(self.totals.values())


# ---- gc and pins -----------------------------------------------------------------------------

@dataclass(frozen=True)
class ProtectedSnapshot:
    """A snapshot a gc plan keeps, and why (``"lineage"``, ``"pin"``, ``"retention"``, ...)."""

    snapshot_id: str
    reasons: List[str]


@dataclass(frozen=True)
class GcPlan:
    """A garbage-collection plan (``Workspace.gc_plan``): what ``gc_run`` would delete.

    The plan is stored in the repository; ``Workspace.gc_run(plan)`` executes it only if the
    repository still matches it (else :class:`~jvs.Conflict` with ``E_GC_PLAN_MISMATCH``).
    """

    plan_id: str
    created_at: Optional[datetime]
    candidates: List[str]
    protected: List[ProtectedSnapshot]
    bytes_reclaimable: int
    retention: Dict[str, Any]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GcPlan":
        retention = d.get("retention")
        return cls(
            plan_id=str(d.get("plan_id", "")),
            created_at=_opt_time(d, "created_at"),
            candidates=_str_list(d.get("candidates")),
            protected=[ProtectedSnapshot(str(p.get("snapshot_id", "")), _str_list(p.get("reasons")))
                       for p in _mappings(d.get("protected"))],
            bytes_reclaimable=int(d.get("bytes_reclaimable", 0) or 0),
            retention=dict(retention) if isinstance(retention, Mapping) else {},
            raw=dict(d),
        )


@dataclass(frozen=True)
class GcResult:
    """What ``Workspace.gc_run`` (or ``gc``) deleted."""

    plan_id: str
    deleted: List[str]
    bytes_freed: int
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "GcResult":
        return cls(plan_id=str(d.get("plan_id", "")), deleted=_str_list(d.get("deleted")),
                   bytes_freed=int(d.get("bytes_freed", 0) or 0), raw=dict(d))


@dataclass(frozen=True)
class Pin:
    """A pin protecting a snapshot from gc (``Workspace.pin`` / ``pins``).

    ``expired`` is the library's verdict at the time of the call: an expired pin protects nothing.
    """

    snapshot_id: str
    pinned_at: Optional[datetime]
    reason: Optional[str]
    expires_at: Optional[datetime]
    expired: bool
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Pin":
        return cls(snapshot_id=str(d.get("snapshot_id", "")), pinned_at=_opt_time(d, "pinned_at"),
                   reason=_opt_str(d, "reason"), expires_at=_opt_time(d, "expires_at"),
                   expired=bool(d.get("expired", False)), raw=dict(d))


# ---- doctor ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    """One problem ``Workspace.doctor`` found.

    ``severity`` is ``"info"``, ``"warning"``, ``"error"`` or ``"critical"``; ``repair`` names
    the fix ``doctor(repair=True)`` would apply (None when there is none); ``repaired`` says
    whether that fix ran successfully (None when no repair was attempted).
    """

    code: str
    severity: str
    category: str
    message: str
    path: Optional[str] = None
    repair: Optional[str] = None
    repaired: Optional[bool] = None
    error_code: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Finding":
        repaired = d.get("repaired")
        return cls(code=str(d.get("code", "")), severity=str(d.get("severity", "")),
                   category=str(d.get("category", "")), message=str(d.get("message", "")),
                   path=_opt_str(d, "path"), repair=_opt_str(d, "repair"),
                   repaired=bool(repaired) if isinstance(repaired, bool) else None,
                   error_code=_opt_str(d, "error_code"), raw=dict(d))


@dataclass(frozen=True)
class Repair:
    """One repair ``doctor(repair=True)`` attempted; ``reason`` says why it was not done."""

    id: str
    path: Optional[str]
    done: bool
    reason: Optional[str] = None


@dataclass(frozen=True)
class DoctorReport:
    """The result of ``Workspace.doctor``; true in a boolean context when the repository is
    healthy (no unrepaired error or critical finding)."""

    healthy: bool
    strict: bool
    findings: List[Finding]
    repairs: List[Repair]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DoctorReport":
        return cls(
            healthy=bool(d.get("healthy", False)),
            strict=bool(d.get("strict", False)),
            findings=[Finding.from_dict(f) for f in _mappings(d.get("findings"))],
            repairs=[Repair(str(r.get("id", "")), _opt_str(r, "path"), bool(r.get("done", False)),
                            _opt_str(r, "reason")) for r in _mappings(d.get("repairs"))],
            raw=dict(d),
        )

    def __bool__(self) -> bool:
        return self.healthy
