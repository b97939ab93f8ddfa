"""Value objects built from the library's JSON documents (schema 1).

Every object keeps the document it was built from in ``raw``; fields added by newer libraries
are therefore never lost, only not yet typed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Mapping, Optional

__all__ = [
    "parse_time",
    "Snapshot",
    "Worktree",
    "Change",
    "RestoreResult",
    "VerifyEntry",
    "AuditCheck",
    "VerifyResult",
    "Info",
    "ProgressEvent",
]

_TIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time (Go's RFC3339Nano form) into an aware ``datetime``.

    Sub-microsecond digits are truncated (``datetime`` has microsecond resolution); the exact
    string is still available in ``to_dict()``.
    """
    n = len(text)
    if n >= 20 and text[-1] == "Z" and text[4] == "-" and text[10] == "T" and text[13] == ":":
        try:  # the common UTC form "2026-11-25T04:50:18.215457017Z"
            micro = 0
            if n > 21 and text[19] == ".":
                micro = int((text[20:-1] + "000000")[:6])
            elif n != 20:
                raise ValueError
            return datetime(int(text[0:4]), int(text[5:7]), int(text[8:10]), int(text[11:13]),
                            int(text[14:16]), int(text[17:19]), micro, tzinfo=timezone.utc)
        except ValueError:
            pass
    m = _TIME_RE.match(text)
    if not m:
        raise ValueError("not an RFC 3339 time: %r" % (text,))
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ""
    micro = int((frac + "000000")[:6])
    tz_text = m.group(8)
    if tz_text in ("Z", "z"):
        tz = timezone.utc
    else:
        sign = 1 if tz_text[0] == "+" else -1
        tz = timezone(sign * timedelta(hours=int(tz_text[1:3]), minutes=int(tz_text[4:6])))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def _str_list(v: Any) -> List[str]:
    return [str(x) for x in v] if isinstance(v, list) else []


class Snapshot:
    """One published snapshot (a descriptor).

    Two ``Snapshot`` objects are equal when their ids are equal; they hash by id, so they can be
    used in sets and as dict keys. Any method taking a reference also accepts a ``Snapshot``.
    Snapshots are immutable values; fields are decoded from the descriptor on first access.

    Attributes:
        id: the snapshot id, e.g. ``"1795582220522-0d877fa5"``.
        note: the note ("" when none was given).
        tags: the tags, in the order given.
        created_at: the creation time, timezone-aware (UTC).
        parent_id: the id of the snapshot it was taken on top of, or None for the first one.
        worktree: the name of the worktree it was taken in.
        engine: the engine that materialised it (``"copy"``, ...).
        payload_root_hash: hash of the whole payload (what ``verify`` checks).
        integrity_state: as recorded in the descriptor.
        partial_paths: for a partial snapshot, the paths it holds; else empty.
        stats: for a snapshot just taken, the library's statistics (files, bytes, ...); else None.
        degradations: for a snapshot just taken, what could not be kept exactly (hard links,
            xattrs, ...); else empty.
        raw: the descriptor as returned by the library (do not modify; see ``to_dict``).
    """

    __slots__ = ("_id", "_raw", "_stats", "_degradations", "_created_at")
    _id: str
    _raw: Dict[str, Any]
    _stats: Optional[Dict[str, Any]]
    _degradations: List[Dict[str, Any]]
    _created_at: Optional[datetime]

    def __init__(self, raw: Mapping[str, Any], *, stats: Optional[Mapping[str, Any]] = None,
                 degradations: Optional[List[Any]] = None) -> None:
        object.__setattr__(self, "_id", str(raw["snapshot_id"]))
        object.__setattr__(self, "_raw", raw if isinstance(raw, dict) else dict(raw))
        object.__setattr__(self, "_stats", dict(stats) if stats is not None else None)
        object.__setattr__(self, "_degradations",
                           [dict(x) for x in degradations or [] if isinstance(x, Mapping)])
        object.__setattr__(self, "_created_at", None)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, stats: Optional[Mapping[str, Any]] = None,
                  degradations: Optional[List[Any]] = None) -> "Snapshot":
        """Build from a descriptor object (as found in ``history``, ``snapshot``, ``resolve``)."""
        return cls(d, stats=stats, degradations=degradations)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Snapshot is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Snapshot is immutable")

    @property
    def id(self) -> str:
        return self._id

    @property
    def note(self) -> str:
        return str(self._raw.get("note", ""))

    @property
    def tags(self) -> List[str]:
        return _str_list(self._raw.get("tags"))

    @property
    def created_at(self) -> datetime:
        v: Optional[datetime] = self._created_at
        if v is None:
            v = parse_time(str(self._raw["created_at"]))
            object.__setattr__(self, "_created_at", v)
        return v

    @property
    def parent_id(self) -> Optional[str]:
        p = self._raw.get("parent_id")
        return str(p) if p else None

    @property
    def worktree(self) -> str:
        return str(self._raw.get("worktree_name", ""))

    @property
    def engine(self) -> str:
        return str(self._raw.get("engine", ""))

    @property
    def payload_root_hash(self) -> str:
        return str(self._raw.get("payload_root_hash", ""))

    @property
    def integrity_state(self) -> str:
        return str(self._raw.get("integrity_state", ""))

    @property
    def partial_paths(self) -> List[str]:
        return _str_list(self._raw.get("partial_paths"))

    @property
    def stats(self) -> Optional[Dict[str, Any]]:
        return self._stats

    @property
    def degradations(self) -> List[Dict[str, Any]]:
        return self._degradations

    @property
    def raw(self) -> Dict[str, Any]:
        return self._raw

    @property
    def short_id(self) -> str:
        """The last 8 characters of the id (the random part), as ``jvs history`` prints it."""
        return self._id.rsplit("-", 1)[-1]

    @property
    def is_partial(self) -> bool:
        return bool(self._raw.get("partial_paths"))

    def to_dict(self) -> Dict[str, Any]:
        """The descriptor exactly as the library returned it (times as RFC 3339 strings)."""
        copy: Dict[str, Any] = json.loads(json.dumps(self._raw))  # a deep copy
        return copy

    def to_json(self, indent: Optional[int] = None) -> str:
        """``to_dict()`` as JSON text."""
        return json.dumps(self._raw, indent=indent, ensure_ascii=False)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Snapshot):
            return self._id == other._id
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        if isinstance(other, Snapshot):
            return self._id != other._id
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._id)

    def __str__(self) -> str:
        return self._id

    def __repr__(self) -> str:
        tags = " tags=%r" % (self.tags,) if self._raw.get("tags") else ""
        return "Snapshot(id=%r, note=%r%s, created_at=%r, worktree=%r)" % (
            self._id, self.note, tags, self._raw.get("created_at"), self.worktree)

    def __reduce__(self) -> Any:
        return (_rebuild_snapshot, (self._raw, self._stats, self._degradations))


def _rebuild_snapshot(raw: Dict[str, Any], stats: Optional[Dict[str, Any]],
                      degradations: List[Dict[str, Any]]) -> Snapshot:
    return Snapshot(raw, stats=stats, degradations=degradations)


@dataclass(frozen=True)
class Worktree:
    """A worktree (an independent line of snapshots with its own payload directory).

    ``detached`` is True when its head (what the files are) is not its latest snapshot: it
    then refuses new snapshots until ``restore("HEAD")``.
    """

    name: str
    path: str
    base_snapshot_id: Optional[str]
    head_snapshot_id: Optional[str]
    latest_snapshot_id: Optional[str]
    created_at: Optional[datetime]
    detached: bool
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Worktree":
        def opt(key: str) -> Optional[str]:
            v = d.get(key)
            return str(v) if v else None

        created = d.get("created_at")
        return cls(
            name=str(d["name"]),
            path=str(d.get("path", "")),
            base_snapshot_id=opt("base_snapshot_id"),
            head_snapshot_id=opt("head_snapshot_id"),
            latest_snapshot_id=opt("latest_snapshot_id"),
            created_at=parse_time(str(created)) if created else None,
            detached=bool(d.get("detached", False)),
            raw=dict(d),
        )


@dataclass(frozen=True)
class Change:
    """One change a restore made (or would make, with ``dry_run``).

    ``action`` is one of ``create``, ``update``, ``delete``, ``metadata``, ``mkdir``, ``rmdir``.
    """

    path: str
    action: str


@dataclass(frozen=True)
class RestoreResult:
    """What ``Workspace.restore`` did (or would do, with ``dry_run=True``)."""

    snapshot_id: str
    worktree: str
    detached: bool
    dry_run: bool
    partial: bool
    stats: Dict[str, int]
    changes: List[Change]
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RestoreResult":
        stats = d.get("stats") or {}
        return cls(
            snapshot_id=str(d.get("snapshot_id", "")),
            worktree=str(d.get("worktree", "")),
            detached=bool(d.get("detached", False)),
            dry_run=bool(d.get("dry_run", False)),
            partial=bool(d.get("partial", False)),
            stats={str(k): int(v) for k, v in stats.items() if isinstance(v, (int, float))},
            changes=[Change(str(c.get("path", "")), str(c.get("action", "")))
                     for c in d.get("changes") or [] if isinstance(c, Mapping)],
            raw=dict(d),
        )


@dataclass(frozen=True)
class VerifyEntry:
    """The verification of one snapshot."""

    snapshot_id: str
    checksum_valid: bool
    payload_hash_valid: bool
    tamper_detected: bool
    code: Optional[str] = None
    error: Optional[str] = None
    #: only for a snapshot the Go tool compressed: ``verified``, ``unverified``
    #: (E_COMPRESSED_UNVERIFIED), ``damaged`` or ``not_checked`` (API reference §5.8)
    compression_verdict: Optional[str] = None

    @property
    def ok(self) -> bool:
        """True when the library reported no problem for this snapshot (no ``code``).

        With ``verify(payload=False)`` the payload is not checked, so ``payload_hash_valid``
        is False yet the entry is ok.
        """
        return self.code is None


@dataclass(frozen=True)
class AuditCheck:
    """The audit log check of a verification: ``ok``, how many ``records`` were read and, when
    the hash chain is broken, the ``code`` (``E_AUDIT_CHAIN_BROKEN``), ``line`` and ``error``."""

    ok: bool
    records: int
    code: Optional[str] = None
    line: Optional[int] = None
    error: Optional[str] = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AuditCheck":
        line = d.get("line")
        return cls(ok=bool(d.get("ok", False)), records=int(d.get("records", 0) or 0),
                   code=str(d["code"]) if d.get("code") else None,
                   line=int(line) if isinstance(line, int) else None,
                   error=str(d["error"]) if d.get("error") else None)


@dataclass(frozen=True)
class VerifyResult:
    """The result of ``Workspace.verify``; true in a boolean context when everything verified.

    ``ok`` is the library's verdict over every snapshot *and* the audit log; ``failures`` lists
    the snapshots with a problem, ``audit`` the audit log check (None from libraries that do
    not check it).
    """

    ok: bool
    results: List[VerifyEntry]
    audit: Optional[AuditCheck] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "VerifyResult":
        entries = []
        for r in d.get("results") or []:
            if not isinstance(r, Mapping):
                continue
            entries.append(VerifyEntry(
                snapshot_id=str(r.get("snapshot_id", "")),
                checksum_valid=bool(r.get("checksum_valid", False)),
                payload_hash_valid=bool(r.get("payload_hash_valid", False)),
                tamper_detected=bool(r.get("tamper_detected", False)),
                code=str(r["code"]) if r.get("code") else None,
                error=str(r["error"]) if r.get("error") else None,
                compression_verdict=(str(r["compression"].get("verdict", "")) or None
                                     if isinstance(r.get("compression"), Mapping) else None),
            ))
        audit = d.get("audit")
        return cls(ok=bool(d.get("ok", False)), results=entries,
                   audit=AuditCheck.from_dict(audit) if isinstance(audit, Mapping) else None,
                   raw=dict(d))

    @property
    def failures(self) -> List[VerifyEntry]:
        return [r for r in self.results if not r.ok]

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class Info:
    """Repository information (``Workspace.info()``)."""

    format_version: int
    repo_id: str
    repo_root: str
    engine: str
    total_snapshots: int
    total_worktrees: int
    worktree: Optional[str]
    version: str
    layout: str = "standard"  # "adopted": the repository directory itself is the main worktree
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Info":
        return cls(
            format_version=int(d.get("format_version", 0)),
            repo_id=str(d.get("repo_id", "")),
            repo_root=str(d.get("repo_root", "")),
            engine=str(d.get("engine", "")),
            total_snapshots=int(d.get("total_snapshots", 0)),
            total_worktrees=int(d.get("total_worktrees", 0)),
            worktree=str(d["worktree"]) if d.get("worktree") else None,
            version=str(d.get("version", "")),
            layout=str(d.get("layout", "standard")),
            raw=dict(d),
        )


@dataclass(frozen=True)
class ProgressEvent:
    """A progress event, as passed to ``progress=`` callables.

    ``op`` is the operation (``snapshot``, ``restore``, ``worktree_fork``, ``verify``, ...),
    ``phase`` its current phase (e.g. ``scan``, ``copy``, ``write``, ``sync``: every operation's
    phases are listed in the API reference, "Event documents"; the names are stable);
    ``done``/``total`` count items in that phase (``total`` is 0 when unknown),
    ``bytes_done``/``bytes_total`` bytes when the phase moves data (``bytes_total`` 0: unknown).

    ``kind`` is ``"progress"`` for progress events and ``"warning"`` for a warning the operation
    reports as it goes (then ``message`` holds the text and the counters are 0). Newer libraries
    may add kinds: check ``kind`` before relying on the counters.
    """

    kind: str
    op: str
    phase: str
    done: int
    total: int
    bytes_done: Optional[int] = None
    bytes_total: Optional[int] = None
    message: Optional[str] = None
    raw: Dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ProgressEvent":
        def opt_int(key: str) -> Optional[int]:
            v = d.get(key)
            return int(v) if isinstance(v, (int, float)) else None

        return cls(
            kind=str(d.get("kind", "progress")),
            op=str(d.get("op", "")),
            phase=str(d.get("phase", "")),
            done=int(d.get("done", 0) or 0),
            total=int(d.get("total", 0) or 0),
            bytes_done=opt_int("bytes_done"),
            bytes_total=opt_int("bytes_total"),
            message=str(d["message"]) if "message" in d else None,
            raw=dict(d),
        )

    @property
    def fraction(self) -> Optional[float]:
        """Progress of the current phase in [0, 1], or None when the total is unknown."""
        if self.bytes_total:
            return min(1.0, (self.bytes_done or 0) / self.bytes_total)
        if self.total:
            return min(1.0, self.done / self.total)
        return None
