"""jvs: workspace versioning for AI agents and ML teams - the Python SDK.

Snapshot, restore, fork and verify a real directory, in-process through libjvs (cffi, ABI
mode)::

    import jvs

    ws = jvs.Workspace.init("/data/agent-repo")       # or jvs.Workspace(path) to open
    (ws.path / "notes.txt").write_text("hello")
    baseline = ws.snapshot("before agent run", tags=["baseline"])
    try:
        run_agent(ws.path)
        ws.snapshot("agent completed")
    except Exception:
        ws.restore(baseline)                          # files created by the agent are removed
        raise

    with jvs.transaction(ws, note="risky step"):      # the same pattern as a context manager
        ...

The library is loaded at import: the copy bundled in the package first, then ``$JVS_LIBRARY``,
then the system; its ABI version is checked (ImportError with the reason on mismatch).
"""

from __future__ import annotations

from typing import Any, Dict

from . import _native
from ._ffi import LIBRARY_PATH, LIBRARY_SOURCE, ffi, lib
from ._native import ProgressCallback
from .errors import (AlreadyExists, AmbiguousRef, Cancelled, Conflict, Corrupt, Detached,
                     InternalError, InvalidArgument, InvalidName, IOFailure, JVSError, JVSWarning, Locked,
                     NotFound, OutOfMemory, RollbackError, Unsupported, WorkspaceClosed)
from .models import (AuditCheck, Change, Info, ProgressEvent, RestoreResult, Snapshot, VerifyEntry,
                     VerifyResult, Worktree)
from .reports import (Diff, DiffEntry, DoctorReport, Finding, GcPlan, GcResult, Pin,
                      ProtectedSnapshot, Repair)
from .transaction import Transaction, transaction
from .workspace import Duration, Ref, StrPath, Workspace

__version__ = "1.0.0"

#: The ABI version this package was generated for (``JVS_ABI_VERSION`` of include/jvs.h).
ABI_VERSION: int = int(lib.JVS_ABI_VERSION)

__all__ = [
    "Workspace",
    "Snapshot",
    "Worktree",
    "Change",
    "RestoreResult",
    "VerifyEntry",
    "VerifyResult",
    "AuditCheck",
    "Diff",
    "DiffEntry",
    "GcPlan",
    "GcResult",
    "ProtectedSnapshot",
    "Pin",
    "DoctorReport",
    "Finding",
    "Repair",
    "Info",
    "ProgressEvent",
    "ProgressCallback",
    "Ref",
    "StrPath",
    "Duration",
    "transaction",
    "Transaction",
    "JVSError",
    "JVSWarning",
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
    "ABI_VERSION",
    "library_version",
    "library_abi_version",
    "library_path",
    "build_info",
    "status_name",
    "__version__",
]


def library_version() -> str:
    """The loaded libjvs's version string, e.g. ``"1.0.0"``."""
    return _native.version_string()


def library_abi_version() -> int:
    """The loaded libjvs's ABI version (checked against :data:`ABI_VERSION` at import)."""
    return int(lib.jvs_abi_version())


def library_path() -> str:
    """The file libjvs was loaded from (and why: see ``jvs._ffi.LIBRARY_SOURCE``)."""
    return LIBRARY_PATH


def build_info() -> Dict[str, Any]:
    """The library's build document: version, features, operations and their option keys,
    error codes."""
    return _native.build_info()


def status_name(status: int) -> str:
    """The name of a ``JVS_E_*`` status code (``-5`` -> ``"JVS_E_LOCKED"``)."""
    return _native.status_name(status)


_ = (ffi, LIBRARY_SOURCE)
