"""Exceptions raised by the jvs SDK.

Every failure reported by libjvs carries an error document::

    {"schema": 1, "kind": "error",
     "error": {"status": -3, "status_name": "NOT_FOUND", "code": "E_REF_NOT_FOUND",
               "message": "...", "hint": "...", "op": "restore", "details": {...}}}

It is raised as a :class:`JVSError` subclass chosen by the stable string ``code``. Codes are
append-only; a code this SDK does not know yet raises the base :class:`JVSError` (switch on
``.code`` for finer distinctions than the families below).

========================  ===================================================================
family                    codes
========================  ===================================================================
:class:`InvalidArgument`  E_ARG_NULL, E_JSON_INVALID, E_OPTION_INVALID, E_NOTE_INVALID,
                          E_PATH_INVALID, E_PATH_ESCAPE
:class:`InvalidName`      E_NAME_INVALID, E_TAG_INVALID (a subclass of InvalidArgument)
:class:`AmbiguousRef`     E_REF_AMBIGUOUS (a subclass of InvalidArgument; ``details["candidates"]``)
:class:`Unsupported`      E_OPTION_UNKNOWN, E_METHOD_UNKNOWN, E_FORMAT_UNSUPPORTED,
                          E_SPECIAL_FILE
:class:`NotFound`         E_NOT_REPO, E_NOT_WORKTREE, E_WORKTREE_NOT_FOUND, E_REF_NOT_FOUND,
                          E_NO_SNAPSHOTS, E_PATH_NOT_FOUND
:class:`AlreadyExists`    E_REPO_EXISTS, E_WORKTREE_EXISTS
:class:`Conflict`         E_WORKTREE_MAIN, E_PATH_CONFLICT, E_GC_PLAN_MISMATCH
:class:`Detached`         E_DETACHED (a subclass of Conflict)
:class:`Locked`           E_LOCKED (the holder is in ``details``)
:class:`Corrupt`          E_CONFIG_CORRUPT, E_DESCRIPTOR_CORRUPT, E_CHECKSUM_MISMATCH,
                          E_PAYLOAD_HASH_MISMATCH, E_COMPRESSED_UNVERIFIED, E_SNAPSHOT_INCOMPLETE,
                          E_READY_MISMATCH,
                          E_AUDIT_CHAIN_BROKEN, E_PATH_UNSAFE
:class:`IOFailure`        E_IO, E_NO_SPACE (``details`` carries errno)
:class:`Cancelled`        E_CANCELLED (another thread called ``Workspace.interrupt()``)
:class:`InternalError`    E_INTERNAL
:class:`OutOfMemory`      E_NOMEM (also a ``MemoryError``; the document may be missing)
:class:`WorkspaceClosed`  E_CLOSED: raised by the SDK itself for a closed ``Workspace``
:class:`RollbackError`    E_ROLLBACK: raised by :func:`jvs.transaction` when the rollback failed
========================  ===================================================================

Results that succeeded but carry ``warnings`` (something went wrong after the operation was
already durable, e.g. the audit log could not be appended) emit a :class:`JVSWarning` through
Python's :mod:`warnings` module.

A progress callable that raises cancels the operation, and *its* exception is re-raised (not
:class:`Cancelled`); Ctrl-C during a long call raises ``KeyboardInterrupt``.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "JVSError",
    "InvalidArgument",
    "InvalidName",
    "AmbiguousRef",
    "Unsupported",
    "NotFound",
    "AlreadyExists",
    "Conflict",
    "Detached",
    "Locked",
    "Corrupt",
    "IOFailure",
    "Cancelled",
    "InternalError",
    "OutOfMemory",
    "WorkspaceClosed",
    "RollbackError",
    "JVSWarning",
    "CODE_TO_ERROR",
    "error_from_document",
]


class JVSError(Exception):
    """Base class of every error raised by libjvs through this SDK.

    Attributes:
        code: stable string code, e.g. ``"E_REF_NOT_FOUND"``.
        message: one line for humans.
        hint: one line saying what to do about it ("" if none).
        details: machine-readable specifics (a dict, possibly empty).
        status: the numeric ``jvs_status`` (``JVS_E_*``) the call returned.
        status_name: its name, e.g. ``"JVS_E_NOT_FOUND"``.
        op: the operation that failed, e.g. ``"restore"``.
        document: the whole error document as returned by the library (``{}`` if none).
    """

    code: str
    message: str
    hint: str
    details: Dict[str, Any]
    status: int
    status_name: str
    op: str
    document: Dict[str, Any]

    def __init__(
        self,
        message: str,
        *,
        code: str = "E_ERROR",
        hint: str = "",
        details: Optional[Mapping[str, Any]] = None,
        status: int = -1,
        status_name: str = "JVS_E_ERROR",
        op: str = "",
        document: Optional[Mapping[str, Any]] = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint
        self.details = dict(details or {})
        self.status = status
        self.status_name = status_name
        self.op = op
        self.document = dict(document or {})

    def __str__(self) -> str:
        text = "%s [%s]" % (self.message, self.code)
        if self.op:
            text = "%s: %s" % (self.op, text)
        if self.hint:
            text += " (hint: %s)" % self.hint
        return text

    def __repr__(self) -> str:
        return "%s(code=%r, message=%r)" % (type(self).__name__, self.code, self.message)

    def __reduce__(self) -> Any:  # picklable (e.g. across multiprocessing)
        return (
            _rebuild,
            (type(self), self.message, self.code, self.hint, self.details, self.status,
             self.status_name, self.op, self.document),
        )


def _rebuild(cls: Type[JVSError], message: str, code: str, hint: str, details: Dict[str, Any],
             status: int, status_name: str, op: str, document: Dict[str, Any]) -> JVSError:
    return cls(message, code=code, hint=hint, details=details, status=status,
               status_name=status_name, op=op, document=document)


class InvalidArgument(JVSError):
    """An argument or option is malformed (bad JSON, wrong option type, bad path or note)."""


class InvalidName(InvalidArgument):
    """A worktree, repository or tag name breaks the naming rules."""


class AmbiguousRef(InvalidArgument):
    """A reference matched several snapshots; ``details["candidates"]`` lists them."""


class Unsupported(JVSError):
    """Unknown option or operation, newer repository format, or a special file in the workspace."""


class NotFound(JVSError):
    """No repository, worktree, snapshot or path matched."""


class AlreadyExists(JVSError):
    """A repository or worktree of that name already exists."""


class Conflict(JVSError):
    """The operation conflicts with the repository's state (e.g. removing ``main``)."""


class Detached(Conflict):
    """The worktree is detached (its head is not its latest snapshot) and cannot be snapshotted.

    ``restore("HEAD")`` goes back to the latest snapshot; ``fork()`` continues from the
    current head in a new worktree.
    """


class Locked(JVSError):
    """Another writer held the worktree lock past ``lock_timeout_ms``; the holder is in ``details``."""


class Corrupt(JVSError):
    """Repository metadata or a snapshot failed an integrity check."""


class IOFailure(JVSError):
    """A filesystem call failed (``details`` names the call, the path and errno)."""


class Cancelled(JVSError):
    """The operation was cancelled (``Workspace.interrupt()``) and left everything as it was."""


class InternalError(JVSError):
    """A bug in libjvs; please report it with the error document."""


class OutOfMemory(JVSError, MemoryError):
    """libjvs ran out of memory (JVS_E_NOMEM); no error document is available."""


class WorkspaceClosed(JVSError):
    """The :class:`~jvs.Workspace` was closed."""


class RollbackError(JVSError):
    """A :func:`jvs.transaction` block failed *and* restoring its baseline failed too.

    ``original`` is the exception the block raised; ``__cause__`` is the restore error. The
    worktree is in an unknown state: inspect it, then ``restore(baseline)`` by hand.
    """

    original: Optional[BaseException] = None
    baseline_id: str = ""


class JVSWarning(UserWarning):
    """A successful operation reported a warning (``warnings: [{code, message}]`` in its result)."""


CODE_TO_ERROR: Dict[str, Type[JVSError]] = {
    "E_ARG_NULL": InvalidArgument,
    "E_JSON_INVALID": InvalidArgument,
    "E_OPTION_INVALID": InvalidArgument,
    "E_NOTE_INVALID": InvalidArgument,
    "E_PATH_INVALID": InvalidArgument,
    "E_PATH_ESCAPE": InvalidArgument,
    "E_NAME_INVALID": InvalidName,
    "E_TAG_INVALID": InvalidName,
    "E_REF_AMBIGUOUS": AmbiguousRef,
    "E_OPTION_UNKNOWN": Unsupported,
    "E_FORMAT_UNSUPPORTED": Unsupported,
    "E_SPECIAL_FILE": Unsupported,
    "E_METHOD_UNKNOWN": Unsupported,
    "E_PATH_NOT_FOUND": NotFound,
    "E_NOT_REPO": NotFound,
    "E_NOT_WORKTREE": NotFound,
    "E_WORKTREE_NOT_FOUND": NotFound,
    "E_REF_NOT_FOUND": NotFound,
    "E_NO_SNAPSHOTS": NotFound,
    "E_REPO_EXISTS": AlreadyExists,
    "E_WORKTREE_EXISTS": AlreadyExists,
    "E_WORKTREE_MAIN": Conflict,
    "E_PATH_CONFLICT": Conflict,
    "E_DETACHED": Detached,
    "E_LOCKED": Locked,
    "E_CONFIG_CORRUPT": Corrupt,
    "E_DESCRIPTOR_CORRUPT": Corrupt,
    "E_CHECKSUM_MISMATCH": Corrupt,
    "E_PAYLOAD_HASH_MISMATCH": Corrupt,
    "E_COMPRESSED_UNVERIFIED": Corrupt,
    "E_SNAPSHOT_INCOMPLETE": Corrupt,
    "E_READY_MISMATCH": Corrupt,
    "E_AUDIT_CHAIN_BROKEN": Corrupt,
    "E_PATH_UNSAFE": Corrupt,
    "E_GC_PLAN_MISMATCH": Conflict,
    "E_IO": IOFailure,
    "E_NO_SPACE": IOFailure,
    "E_CANCELLED": Cancelled,
    "E_INTERNAL": InternalError,
    "E_NOMEM": OutOfMemory,
}


def error_from_document(doc: Optional[Mapping[str, Any]], status: int = -1,
                        status_name: str = "") -> JVSError:
    """Build the exception for an error document (as returned by any failing libjvs call).

    An unknown ``code`` gives the base :class:`JVSError`. A missing document (only allowed for
    JVS_E_NOMEM) gives :class:`OutOfMemory` for that status, else a plain :class:`JVSError`.
    """
    if not doc or not isinstance(doc.get("error"), Mapping):
        if status == -11:
            return OutOfMemory("libjvs ran out of memory", code="E_NOMEM", status=status,
                               status_name=status_name or "JVS_E_NOMEM")
        return JVSError("libjvs failed with status %d (%s) and no error document"
                        % (status, status_name or "?"), status=status,
                        status_name=status_name or "JVS_E_ERROR", document=doc)
    err = doc["error"]
    code = str(err.get("code") or "E_ERROR")
    cls = CODE_TO_ERROR.get(code, JVSError)
    details = err.get("details")
    return cls(
        str(err.get("message") or code),
        code=code,
        hint=str(err.get("hint") or ""),
        details=details if isinstance(details, Mapping) else {},
        status=int(err.get("status", status)),
        status_name=str(err.get("status_name") or status_name),
        op=str(err.get("op") or ""),
        document=doc,
    )


def _format_document(doc: Mapping[str, Any]) -> str:  # used in reprs / debugging
    return json.dumps(doc, sort_keys=True)
