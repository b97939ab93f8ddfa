"""``Workspace``: one open libjvs handle bound to one worktree."""

from __future__ import annotations

import os
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, Iterable, List, Optional, Type, TypeVar, Union

from . import _native
from ._ffi import ffi, lib
from ._native import ProgressCallback
from .errors import JVSError, NotFound, WorkspaceClosed
from .models import Info, RestoreResult, Snapshot, VerifyResult, Worktree
from .reports import Diff, DoctorReport, GcPlan, GcResult, Pin

__all__ = ["Workspace", "Ref", "StrPath", "Duration"]

StrPath = Union[str, "os.PathLike[str]"]
#: A snapshot reference: an id, a tag, an unambiguous prefix of either (or of a note),
#: ``"HEAD"``, ``"<ref>~N"``, or a :class:`Snapshot`.
Ref = Union[str, Snapshot]

#: A length of time: a ``timedelta`` or a duration string as the library reads it
#: (Go's units ``ns us ms s m h`` plus ``d`` and ``w``: ``"90s"``, ``"1h30m"``, ``"7d"``).
Duration = Union[str, timedelta]

_W = TypeVar("_W", bound="Workspace")


def _ref(ref: Ref) -> str:
    if isinstance(ref, Snapshot):
        return ref.id
    if not isinstance(ref, str):
        raise TypeError("a snapshot reference is a str or a Snapshot, not %s" % type(ref).__name__)
    return ref


def _duration(d: Duration) -> str:
    """A duration option as the library's duration string (a timedelta in microseconds, which
    is exact; its sign is kept so that the library rejects a negative one)."""
    if isinstance(d, timedelta):
        return "%dus" % (d // timedelta(microseconds=1))
    return str(d)


def _expiry(e: Union[Duration, datetime]) -> str:
    """An ``expires`` option: an aware datetime as RFC 3339 UTC, else as :func:`_duration`."""
    if isinstance(e, datetime):
        if e.tzinfo is None:
            raise ValueError("expires needs a timezone-aware datetime (e.g. tzinfo=timezone.utc)")
        return e.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return _duration(e)


class Workspace:
    """An open jvs repository, bound to one worktree.

    ``Workspace(path)`` opens the worktree containing ``path`` (any path inside a worktree's
    payload directory, or the repository root for ``main``). Files live in :attr:`path`; jvs
    snapshots and restores that directory in place.

    One ``Workspace`` may be used from many threads at once: the GIL is released during every
    library call, writers to the same worktree serialise on a lock file (waiting up to
    ``lock_timeout_ms``), writers to different worktrees run in parallel.

    Long calls (``snapshot``, ``restore``, ``fork``, ``create_worktree``, ``verify``, ``diff``,
    ``gc_plan``, ``gc_run``, ``gc``, ``doctor``) accept ``progress=``: a callable receiving :class:`~jvs.ProgressEvent` objects on the calling
    thread. Raising from it cancels the operation (the library leaves the repository and the
    worktree as they were) and the exception propagates. Ctrl-C during a long call made from the
    main thread interrupts it and raises ``KeyboardInterrupt``; :meth:`interrupt` does the same
    from any thread and makes the running calls raise :class:`~jvs.Cancelled`.

    Use it as a context manager, or call :meth:`close`; an unclosed handle is closed when the
    object is garbage-collected.

    Args:
        path: a path inside the worktree to open.
        worktree: open this worktree of the repository containing ``path`` instead.
        lock_timeout_ms: how long writes wait for the worktree lock before raising
            :class:`~jvs.Locked` (library default: 30000; 0 = fail at once).
    """

    def __init__(self, path: StrPath, *, worktree: Optional[str] = None,
                 lock_timeout_ms: Optional[int] = None) -> None:
        opts: Dict[str, Any] = {}
        if worktree is not None:
            opts["worktree"] = worktree
        handle, doc = self._open_handle(lib.jvs_repo_open, path, opts)
        self._setup(handle, doc, lock_timeout_ms)

    # ---- construction -------------------------------------------------------------------

    @classmethod
    def init(cls: Type[_W], path: StrPath, *, name: Optional[str] = None, adopt: Optional[bool] = None,
             lock_timeout_ms: Optional[int] = None) -> _W:
        """Create a repository at ``path`` (created if missing) and open its ``main`` worktree.

        The repository keeps its metadata in ``path/.jvs``. The ``main`` worktree's files (see
        :attr:`path`) are in ``path/main`` (the Go tool's layout), or, when the directory is
        *adopted*, ``path`` itself: its files stay where they are (same paths, same inodes) and
        ``.jvs`` is never part of a snapshot. Raises :class:`~jvs.AlreadyExists`
        (``E_REPO_EXISTS``) if ``path`` or a directory above it already holds a repository;
        nothing is written then.

        Args:
            path: the repository directory.
            name: an informational repository name (validated: :class:`~jvs.InvalidName`).
            adopt: True adopts ``path`` (even empty), False uses the Go layout even for a folder
                with files, None (default) adopts an existing directory that has files.
            lock_timeout_ms: as for :class:`Workspace`.
        """
        opts: Dict[str, Any] = {}
        if name is not None:
            opts["name"] = name
        if adopt is not None:
            opts["adopt"] = bool(adopt)
        handle, doc = cls._open_handle(lib.jvs_repo_init, path, opts)
        self = cls.__new__(cls)
        self._setup(handle, doc, lock_timeout_ms)
        return self

    @classmethod
    def open(cls: Type[_W], path: StrPath, **kwargs: Any) -> _W:
        """Same as ``Workspace(path, ...)``."""
        return cls(path, **kwargs)

    @staticmethod
    def _open_handle(fn: Any, path: StrPath, opts: Dict[str, Any]) -> Any:
        out_repo = ffi.new("jvs_repo **")
        out = ffi.new("char **")
        status = fn(os.fsencode(os.fspath(path)), _native.encode_options(opts), out_repo, out)
        status, data = _native.take_document(status, out)
        if status != 0:
            if out_repo[0] != ffi.NULL:  # defensive: never leak a handle
                lib.jvs_repo_close(out_repo[0])
        doc = _native.parse_result(status, data, "repo_open")
        handle = ffi.gc(out_repo[0], lib.jvs_repo_close)
        return handle, doc

    def _setup(self, handle: Any, doc: Dict[str, Any], lock_timeout_ms: Optional[int]) -> None:
        self._handle: Any = handle
        self._cond = threading.Condition(threading.Lock())
        self._active = 0
        self._closed = False
        self._lock_timeout_ms = lock_timeout_ms
        self._repo_doc = doc
        self._repo_root = Path(str(doc.get("repo_root", "")))
        self._worktree_name = str(doc.get("worktree") or "main")
        wt_path = doc.get("worktree_path")
        if not wt_path:
            wt_path = self._call("worktree_path", {"name": self._worktree_name})["path"]
        self._path = Path(str(wt_path))

    # ---- plumbing ----------------------------------------------------------------------

    def _acquire(self) -> Any:
        """Count a call in (so close() waits for it) and return the handle."""
        if _native.in_callback():
            raise JVSError("a progress callable must not call into jvs (only interrupt())",
                           code="E_REENTRANT")
        with self._cond:
            if self._closed:
                raise WorkspaceClosed("the workspace %s is closed" % self._path, code="E_CLOSED")
            self._active += 1
        return self._handle

    def _release(self) -> None:
        with self._cond:
            self._active -= 1
            if self._closed and not self._active:
                self._cond.notify_all()

    def _write_opts(self, opts: Dict[str, Any], lock_timeout_ms: Optional[int]) -> Dict[str, Any]:
        t = lock_timeout_ms if lock_timeout_ms is not None else self._lock_timeout_ms
        if t is not None:
            opts["lock_timeout_ms"] = int(t)
        return opts

    def _call(self, op: str, opts: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A short call ``jvs_<op>(repo, opts, &out)`` (the hot path: kept lean)."""
        fn = getattr(lib, "jvs_" + op)
        o = _native.encode_options(opts)
        h = self._acquire()
        try:
            out = ffi.new("char **")
            status, data = _native.take_document(fn(h, o, out), out)
        finally:
            self._release()
        return _native.parse_result(status, data, op)

    def _long_call(self, op: str, opts: Optional[Dict[str, Any]],
                   progress: Optional[ProgressCallback]) -> Dict[str, Any]:
        """A long call ``jvs_<op>(repo, opts, cb, user_data, &out)``."""
        fn = getattr(lib, "jvs_" + op)
        o = _native.encode_options(opts)
        h = self._acquire()
        try:
            def call(cb: Any, ud: Any) -> Any:
                out = ffi.new("char **")
                return _native.take_document(fn(h, o, cb, ud, out), out)

            return _native.invoke(call, h, op, progress, long_call=True)
        finally:
            self._release()

    def call(self, method: str, params: Optional[Dict[str, Any]] = None, *,
             progress: Optional[ProgressCallback] = None) -> Dict[str, Any]:
        """Call any library operation by name through ``jvs_call`` and return its document.

        New operations ship in the library through ``jvs_call`` first; this reaches them before
        the SDK grows a method. ``params`` is the option object (see docs/ARCHITECTURE.md).
        """
        m = method.encode("utf-8")
        o = _native.encode_options(params)
        h = self._acquire()
        try:
            def do(cb: Any, ud: Any) -> Any:
                out = ffi.new("char **")
                return _native.take_document(lib.jvs_call(h, m, o, cb, ud, out), out)

            return _native.invoke(do, h, method, progress, long_call=True)
        finally:
            self._release()

    def _method(self, method: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        """A short ``jvs_call`` without a callback (no helper thread: for quick operations)."""
        m = method.encode("utf-8")
        o = _native.encode_options(params)
        h = self._acquire()
        try:
            out = ffi.new("char **")
            status, data = _native.take_document(lib.jvs_call(h, m, o, ffi.NULL, ffi.NULL, out), out)
        finally:
            self._release()
        return _native.parse_result(status, data, method)

    # ---- properties --------------------------------------------------------------------

    @property
    def path(self) -> Path:
        """The worktree's payload directory: the files that are snapshotted and restored."""
        return self._path

    @property
    def repo_root(self) -> Path:
        """The repository root (the directory holding ``.jvs``)."""
        return self._repo_root

    @property
    def worktree_name(self) -> str:
        """The name of the worktree this handle is bound to (``"main"`` for the first one)."""
        return self._worktree_name

    @property
    def repo_id(self) -> str:
        return str(self._repo_doc.get("repo_id", ""))

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def current_snapshot(self) -> Optional[Snapshot]:
        """The snapshot the worktree's files currently correspond to (its head), or None when
        no snapshot was taken yet. After ``restore(old)`` this is ``old``."""
        try:
            return self.resolve("HEAD")
        except NotFound as e:
            if e.code == "E_NO_SNAPSHOTS":
                return None
            raise

    @property
    def worktree(self) -> Worktree:
        """This worktree's record (head, latest, detached, ...), read fresh from the repository."""
        for wt in self.worktrees():
            if wt.name == self._worktree_name:
                return wt
        raise NotFound("worktree %r is gone" % self._worktree_name, code="E_WORKTREE_NOT_FOUND")

    @property
    def detached(self) -> bool:
        """True when the worktree's head is not its latest snapshot (snapshots are refused)."""
        return self.worktree.detached

    # ---- operations --------------------------------------------------------------------

    def info(self) -> Info:
        """Repository information: id, root, engine, counts, library version."""
        return Info.from_dict(self._call("info"))

    def snapshot(self, note: str = "", tags: Optional[Union[str, Iterable[str]]] = None,
                 paths: Optional[Iterable[StrPath]] = None, *,
                 progress: Optional[ProgressCallback] = None,
                 lock_timeout_ms: Optional[int] = None) -> Snapshot:
        """Snapshot the worktree and return the new :class:`Snapshot`.

        Args:
            note: a free-text note.
            tags: tags to attach (a str is one tag).
            paths: snapshot only these paths (relative to :attr:`path`; absolute paths inside
                it are accepted) - a partial snapshot.
            progress: a callable receiving progress events; raising from it cancels.
            lock_timeout_ms: override the handle's lock timeout for this call.

        Raises:
            Detached: the worktree was restored to an older snapshot (see :attr:`detached`).
            Locked: another writer holds the worktree.
            InvalidName / InvalidArgument / NotFound / Unsupported: bad tag, note or path,
                missing partial path, special file in the workspace.
        """
        opts: Dict[str, Any] = {"note": note}
        if tags is not None:
            opts["tags"] = [tags] if isinstance(tags, str) else [str(t) for t in tags]
        if paths is not None:
            opts["paths"] = [self._relpath(p) for p in paths]
        doc = self._long_call("snapshot", self._write_opts(opts, lock_timeout_ms), progress)
        return Snapshot.from_dict(doc["snapshot"], stats=doc.get("stats"),
                                  degradations=doc.get("degradations"))

    def _relpath(self, p: StrPath) -> str:
        s = os.fspath(p)
        if os.path.isabs(s):
            try:
                rel = os.path.relpath(s, self._path)
            except ValueError:
                return s
            if not rel.startswith(".."):
                return rel.replace(os.sep, "/")
        return s

    def restore(self, ref: Ref, *, dry_run: bool = False,
                progress: Optional[ProgressCallback] = None,
                lock_timeout_ms: Optional[int] = None) -> RestoreResult:
        """Make the worktree's files exactly those of a snapshot, in place.

        Files absent from the snapshot are removed, changed ones rewritten (each atomically),
        the worktree directory itself is kept. ``"HEAD"`` restores the worktree's latest
        snapshot; any older snapshot leaves the worktree *detached* (no new snapshots until
        ``restore("HEAD")``, or ``fork()`` to continue from there).

        Args:
            ref: an id, tag, prefix, ``"HEAD"``, ``"<ref>~N"`` or a :class:`Snapshot`.
            dry_run: only compute the plan (``RestoreResult.changes``); touch nothing.
            progress: progress callable; raising from it cancels. Note: libjvs 1.0.0 stops a
                restore cancelled during its ``write`` phase where it is: files it already
                rewrote stay rewritten (each one atomically). Restore again to finish.
            lock_timeout_ms: override the handle's lock timeout for this call.
        """
        opts: Dict[str, Any] = {"ref": _ref(ref)}
        if dry_run:
            opts["dry_run"] = True
        doc = self._long_call("restore", self._write_opts(opts, lock_timeout_ms), progress)
        return RestoreResult.from_dict(doc)

    def history(self, limit: Optional[int] = None, grep: Optional[str] = None,
                tag: Optional[str] = None, all: bool = False) -> List[Snapshot]:
        """Snapshots of this worktree's line, newest first.

        Args:
            limit: at most this many (None or 0: all).
            grep: only snapshots whose note contains this text.
            tag: only snapshots carrying this tag.
            all: every snapshot of the repository (all worktrees), not only this lineage.
        """
        opts: Dict[str, Any] = {}
        if limit is not None:
            opts["limit"] = int(limit)
        if grep is not None:
            opts["grep"] = grep
        if tag is not None:
            opts["tag"] = tag
        if all:
            opts["all"] = True
        doc = self._call("history", opts)
        return [Snapshot.from_dict(d) for d in doc.get("snapshots") or []]

    def resolve(self, ref: Ref) -> Snapshot:
        """The snapshot a reference names (raises NotFound / AmbiguousRef)."""
        doc = self._call("resolve", {"ref": _ref(ref)})
        return Snapshot.from_dict(doc["snapshot"])

    def fork(self, name: Optional[str] = None, from_: Optional[Ref] = None, *,
             progress: Optional[ProgressCallback] = None,
             lock_timeout_ms: Optional[int] = None) -> "Workspace":
        """Create a new worktree from a snapshot and return a :class:`Workspace` on it.

        Args:
            name: the new worktree's name (default: ``fork-<id suffix>``).
            from_: the snapshot to start from (default: this worktree's head).
            progress: progress callable; raising from it cancels.
            lock_timeout_ms: override the handle's lock timeout for this call.

        The returned workspace is a new handle: close it (or use it as a context manager)
        independently of this one.
        """
        opts: Dict[str, Any] = {}
        if name is not None:
            opts["name"] = name
        if from_ is not None:
            opts["from"] = _ref(from_)
        doc = self._long_call("worktree_fork", self._write_opts(opts, lock_timeout_ms), progress)
        wt = Worktree.from_dict(doc["worktree"])
        return Workspace(wt.path, lock_timeout_ms=self._lock_timeout_ms)

    def create_worktree(self, name: str, from_: Optional[Ref] = None, *,
                        progress: Optional[ProgressCallback] = None,
                        lock_timeout_ms: Optional[int] = None) -> "Workspace":
        """Create a worktree (empty, or with the files of ``from_``) and open it."""
        opts: Dict[str, Any] = {"name": name}
        if from_ is not None:
            opts["from"] = _ref(from_)
        doc = self._long_call("worktree_create", self._write_opts(opts, lock_timeout_ms), progress)
        wt = Worktree.from_dict(doc["worktree"])
        return Workspace(wt.path, lock_timeout_ms=self._lock_timeout_ms)

    def worktrees(self) -> List[Worktree]:
        """Every worktree of the repository."""
        doc = self._call("worktree_list")
        return [Worktree.from_dict(d) for d in doc.get("worktrees") or []]

    def worktree_path(self, name: Optional[str] = None) -> Path:
        """The payload directory of a worktree (default: this one)."""
        doc = self._call("worktree_path", {"name": name or self._worktree_name})
        return Path(str(doc["path"]))

    def rename_worktree(self, name: str, new_name: str, *,
                        lock_timeout_ms: Optional[int] = None) -> Worktree:
        """Rename another worktree (``main`` cannot be renamed: :class:`~jvs.Conflict`)."""
        doc = self._call("worktree_rename",
                         self._write_opts({"name": name, "new_name": new_name}, lock_timeout_ms))
        return Worktree.from_dict(doc["worktree"])

    def remove_worktree(self, name: str, *, force: bool = False,
                        lock_timeout_ms: Optional[int] = None) -> None:
        """Remove a worktree and its files (``force`` is needed while it is detached).
        Its snapshots stay in the repository."""
        opts: Dict[str, Any] = {"name": name}
        if force:
            opts["force"] = True
        self._call("worktree_remove", self._write_opts(opts, lock_timeout_ms))

    def verify(self, ref: Optional[Ref] = None, *, payload: bool = True,
               progress: Optional[ProgressCallback] = None) -> VerifyResult:
        """Check descriptor checksums and (with ``payload``) payload hashes.

        Args:
            ref: one snapshot; None verifies every snapshot of the repository.
            payload: also re-hash the snapshot contents (slower).
            progress: progress callable; raising from it cancels.

        A verification that finds damage does not raise: the result is falsy and
        ``result.failures`` lists what is wrong.
        """
        opts: Dict[str, Any] = {"ref": _ref(ref)} if ref is not None else {"all": True}
        if not payload:
            opts["payload"] = False
        return VerifyResult.from_dict(self._long_call("verify", opts, progress))

    def diff(self, from_: Optional[Ref] = None, to: Optional[Ref] = None, *, stat: bool = False,
             progress: Optional[ProgressCallback] = None) -> Diff:
        """What changed between two snapshots, or between a snapshot and the live files.

        Args:
            from_: the older side (default: the worktree's head, ``"HEAD"``).
            to: the newer side (default: the worktree's files as they are now, i.e. what a
                snapshot would record; nothing is written, not even caches).
            stat: only count the changes (``Diff.totals``), without listing them.
            progress: progress callable; raising from it cancels.

        Raises:
            NotFound: a reference matches nothing, or ``from_`` is omitted and the worktree has
                no snapshot yet (``E_NO_SNAPSHOTS``).
        """
        opts: Dict[str, Any] = {}
        if from_ is not None:
            opts["from"] = _ref(from_)
        if to is not None:
            opts["to"] = _ref(to)
        if stat:
            opts["stat"] = True
        return Diff.from_dict(self.call("diff", opts, progress=progress))

    def gc_plan(self, *, keep_last: Optional[int] = None,
                keep_within: Optional[Duration] = None,
                keep_tags: Optional[Iterable[str]] = None,
                keep_min_age: Optional[Duration] = None,
                progress: Optional[ProgressCallback] = None) -> GcPlan:
        """Plan a garbage collection: which snapshots nothing protects any more.

        Snapshots in a worktree's lineage, pinned ones (:meth:`pin`) and those kept by the
        retention policy are protected; the rest (e.g. the snapshots of removed worktrees) are
        candidates. Nothing is deleted: pass the plan to :meth:`gc_run`.

        Args:
            keep_last: also keep the N newest snapshots.
            keep_within: also keep snapshots younger than this (a ``timedelta`` or a duration
                such as ``"30m"``, ``"24h"``, ``"7d"``, ``"2w"``).
            keep_tags: also keep snapshots with a tag starting with one of these
                (an empty list overrides ``retention`` in ``.jvs/config.yaml``).
            keep_min_age: never collect a snapshot younger than this (default ``"24h"``, as the
                Go tool; ``0`` collects young snapshots too).
            progress: progress callable; raising from it cancels.

        Omitted options fall back to the repository's ``.jvs/config.yaml`` retention policy.
        """
        opts: Dict[str, Any] = {}
        if keep_last is not None:
            opts["keep_last"] = int(keep_last)
        if keep_within is not None:
            opts["keep_within"] = _duration(keep_within)
        if keep_tags is not None:
            opts["keep_tags"] = [keep_tags] if isinstance(keep_tags, str) else [str(t) for t in keep_tags]
        if keep_min_age is not None:
            opts["keep_min_age"] = _duration(keep_min_age)
        return GcPlan.from_dict(self.call("gc_plan", opts, progress=progress))

    def gc_run(self, plan: Union[GcPlan, str], *, progress: Optional[ProgressCallback] = None,
               lock_timeout_ms: Optional[int] = None) -> GcResult:
        """Execute a plan from :meth:`gc_plan` (a :class:`GcPlan` or its ``plan_id``).

        The library re-checks the plan first and raises :class:`~jvs.Conflict`
        (``E_GC_PLAN_MISMATCH``) without deleting anything when the repository changed so that
        a candidate became protected. Cancelling (``progress`` raising, Ctrl-C) stops between
        snapshots: those already deleted stay deleted, the rest are untouched.
        """
        plan_id = plan.plan_id if isinstance(plan, GcPlan) else str(plan)
        opts = self._write_opts({"plan_id": plan_id}, lock_timeout_ms)
        return GcResult.from_dict(self.call("gc_run", opts, progress=progress))

    def gc(self, *, keep_last: Optional[int] = None, keep_within: Optional[Duration] = None,
           keep_tags: Optional[Iterable[str]] = None,
           keep_min_age: Optional[Duration] = None,
           progress: Optional[ProgressCallback] = None,
           lock_timeout_ms: Optional[int] = None) -> GcResult:
        """Plan and run a garbage collection in one call (:meth:`gc_plan` then :meth:`gc_run`;
        same options). ``progress`` sees the events of both steps."""
        plan = self.gc_plan(keep_last=keep_last, keep_within=keep_within, keep_tags=keep_tags,
                            keep_min_age=keep_min_age, progress=progress)
        return self.gc_run(plan, progress=progress, lock_timeout_ms=lock_timeout_ms)

    def pin(self, ref: Ref, *, reason: Optional[str] = None,
            expires: Optional[Union[Duration, datetime]] = None) -> Pin:
        """Protect a snapshot from gc, optionally until ``expires`` (an aware ``datetime``, a
        ``timedelta`` from now, or a duration / RFC 3339 string)."""
        opts: Dict[str, Any] = {"ref": _ref(ref)}
        if reason is not None:
            opts["reason"] = reason
        if expires is not None:
            opts["expires"] = _expiry(expires)
        return Pin.from_dict(self._method("gc_pin", opts)["pin"])

    def unpin(self, ref: Ref) -> None:
        """Remove the pins of a snapshot (:class:`~jvs.NotFound` if it has none)."""
        self._method("gc_unpin", {"ref": _ref(ref)})

    def pins(self) -> List[Pin]:
        """Every pin of the repository (expired ones too: see :attr:`Pin.expired`)."""
        return [Pin.from_dict(p) for p in self._method("gc_pins").get("pins") or []]

    def doctor(self, *, strict: bool = False, repair: bool = False,
               progress: Optional[ProgressCallback] = None,
               lock_timeout_ms: Optional[int] = None) -> DoctorReport:
        """Check the repository's health: leftovers of interrupted operations, worktree
        configurations, lineage, unfinished gc; with ``strict`` also every snapshot's
        integrity and the audit log (reads every stored byte).

        Args:
            strict: also verify snapshots and the audit chain.
            repair: apply the safe repairs the findings name (under the repository lock).
            progress: progress callable; raising from it cancels.
            lock_timeout_ms: with ``repair``, how long to wait for the repository lock.

        Problems are reported in the result (falsy when unhealthy), not raised.
        """
        opts: Dict[str, Any] = {}
        if strict:
            opts["strict"] = True
        if repair:
            opts["repair"] = True
        opts = self._write_opts(opts, lock_timeout_ms)
        return DoctorReport.from_dict(self.call("doctor", opts, progress=progress))

    # ---- lifecycle ---------------------------------------------------------------------

    def interrupt(self) -> None:
        """Cancel every call running on this handle right now (from any thread).

        The cancelled calls raise :class:`~jvs.Cancelled` and leave the repository and the
        worktree as they were. No effect when nothing is running.
        """
        with self._cond:
            if not self._closed:
                lib.jvs_repo_interrupt(self._handle)

    def close(self, *, cancel: bool = False) -> None:
        """Close the handle. Waits for calls still running on it (``cancel=True`` interrupts
        them first). Idempotent; any later call raises :class:`~jvs.WorkspaceClosed`."""
        if _native.in_callback():
            raise JVSError("a progress callable must not close the workspace (use interrupt())",
                           code="E_REENTRANT")
        with self._cond:
            if self._closed:
                return
            self._closed = True
            if cancel and self._active:
                lib.jvs_repo_interrupt(self._handle)
            while self._active:
                self._cond.wait()
            handle, self._handle = self._handle, ffi.NULL
        ffi.release(handle)  # runs jvs_repo_close exactly once

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self._closed else ""
        return "<jvs.Workspace %s worktree=%r%s>" % (self._path, self._worktree_name, state)

    def __fspath__(self) -> str:
        return str(self._path)
