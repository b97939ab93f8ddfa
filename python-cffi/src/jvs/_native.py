"""The one place that calls libjvs: JSON in, JSON out, buffers freed, errors raised.

Every call goes through :func:`invoke`: it appends a ``char **out_json``, calls, copies the
result with ``ffi.string``, releases it with ``jvs_free`` (always, success or failure), then
parses the document and raises the mapped :class:`~jvs.errors.JVSError` on a non-zero status.

cffi releases the GIL for the duration of every C call, so other Python threads run while the
library works.

Progress callbacks go through one module-level trampoline (kept alive for the life of the
process). The per-call Python state travels as ``user_data`` (``ffi.new_handle``); an exception
raised by the user's callable is stored, the trampoline returns 1 (cancel), and the exception is
re-raised once the library has returned.

Ctrl-C: Python runs signal handlers only in the main thread, between bytecodes, so a
KeyboardInterrupt cannot land while the main thread sits inside a C call. For long calls made
from the main thread, :class:`SigintGuard` therefore, for the duration of the call only, points
Python's signal wakeup fd at a pipe read by one long-lived watcher thread, which calls
``jvs_repo_interrupt`` on the handle when SIGINT arrives (the library then stops and leaves
everything as it was), and replaces the Python-level SIGINT handler with one that only records
the signal. Once the call returned and its document was freed, the original handler runs
(by default: KeyboardInterrupt). No thread is created or woken per call: this costs a few
microseconds, where running the call on a helper thread cost tens.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import warnings
from typing import Any, Callable, Dict, Optional, Tuple

from ._ffi import ffi, lib

# The C module under `signal`: the wrappers' enum conversions cost ~8 µs per long call here. Same
# functions and signatures (typeshed has no stub for it, hence Any).
_sig: Any
try:
    import _signal as _sig  # type: ignore[import-not-found,no-redef]
except ImportError:  # pragma: no cover - other Pythons
    _sig = signal
_SIGINT = int(signal.SIGINT)
from .errors import InvalidArgument, JVSError, JVSWarning, error_from_document
from .models import ProgressEvent

ProgressCallback = Callable[[ProgressEvent], Any]

_tls = threading.local()

#: Set to False to leave SIGINT alone during long calls (Ctrl-C then waits for the call to end).
INTERRUPT_ON_SIGINT = True


def in_callback() -> bool:
    """True while a progress callable of this thread is running."""
    return bool(getattr(_tls, "in_callback", False))


class CallContext:
    """Per-call state reachable from the trampoline through ``user_data``."""

    __slots__ = ("progress", "exc")

    def __init__(self, progress: Optional[ProgressCallback]) -> None:
        self.progress = progress
        self.exc: Optional[BaseException] = None

    def deliver(self, data: bytes) -> int:
        """Run the user's callable for one event. Returns the value for the library (1 = cancel)."""
        if self.exc is not None:
            return 1
        if self.progress is None:
            return 0
        try:
            ev = ProgressEvent.from_dict(json.loads(data))
            _tls.in_callback = True
            try:
                self.progress(ev)
            finally:
                _tls.in_callback = False
        except BaseException as e:  # noqa: B902 - includes KeyboardInterrupt: store, cancel, re-raise later
            self.exc = e
            return 1
        return 0


def _trampoline_impl(event_json: Any, user_data: Any) -> int:
    ctx: CallContext = ffi.from_handle(user_data)
    if ctx.exc is not None:
        return 1
    if ctx.progress is None:
        return 0
    return ctx.deliver(ffi.string(event_json))


# One C-callable trampoline for the whole process (cffi callbacks must outlive every use).
# error=1: should anything escape it, the library sees "cancel".
_trampoline: Any = ffi.callback("jvs_event_cb", _trampoline_impl, error=1)


_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def encode_options(opts: Optional[Dict[str, Any]]) -> Any:
    """Options as UTF-8 JSON bytes (or NULL for "all defaults")."""
    if not opts:
        return ffi.NULL
    try:
        return _encode(opts).encode("utf-8")
    except (UnicodeEncodeError, ValueError, TypeError) as e:
        raise InvalidArgument("options cannot be encoded as UTF-8 JSON: %s" % e,
                              code="E_JSON_INVALID") from e


def take_document(status: int, out: Any) -> Tuple[int, Optional[bytes]]:
    """Copy and free ``*out`` (always)."""
    p = out[0]
    if p == ffi.NULL:
        return status, None
    try:
        return status, ffi.string(p)
    finally:
        lib.jvs_free(p)


def parse_result(status: int, data: Optional[bytes], op: str) -> Dict[str, Any]:
    """Parse the document; raise the mapped error when ``status`` is not JVS_OK."""
    doc: Optional[Dict[str, Any]] = None
    if data is not None:
        try:
            loaded = json.loads(data)
        except ValueError as e:
            raise JVSError("libjvs returned a document that is not JSON: %r" % data[:200],
                           code="E_INTERNAL", op=op) from e
        doc = loaded if isinstance(loaded, dict) else None
    if status != 0:
        name = ffi.string(lib.jvs_status_name(status)).decode("utf-8", "replace")
        raise error_from_document(doc, status, name)
    if doc is None:
        raise JVSError("libjvs returned no result document", code="E_INTERNAL", op=op)
    if "warnings" in doc:
        _emit_warnings(doc["warnings"], op)
    return doc


_PKG_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_stacklevel() -> int:
    """The stacklevel (for warnings.warn called by our caller) of the first frame outside jvs."""
    level = 2  # 1 = the frame calling warnings.warn (_emit_warnings), 2 = its caller
    f = sys._getframe(2)
    while f is not None and os.path.dirname(os.path.abspath(f.f_code.co_filename)) == _PKG_DIR:
        f = f.f_back  # type: ignore[assignment]
        level += 1
    return level


def _emit_warnings(items: Any, op: str) -> None:
    for w in items if isinstance(items, list) else []:
        if isinstance(w, dict):
            warnings.warn(JVSWarning("%s: %s [%s]" % (op, w.get("message", ""), w.get("code", ""))),
                          stacklevel=_user_stacklevel())


class _Watcher:
    """The process's one SIGINT watcher: a pipe and a daemon thread reading it.

    While a :class:`SigintGuard` is active, Python's C-level signal handler writes the number of
    every signal it catches into the pipe; the thread interrupts the guarded handles on SIGINT
    and forwards every byte to the wakeup fd that was installed before (e.g. asyncio's).
    """

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)  # set_wakeup_fd requires it
        self.lock = threading.Lock()
        self.handles: Dict[int, Any] = {}  # id(guard) -> handle
        self.forward_fd = -1
        threading.Thread(target=self._run, name="jvs-sigint-watcher", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 512)
            except OSError:  # pragma: no cover - the pipe is never closed
                return
            with self.lock:
                if signal.SIGINT in data:
                    for h in self.handles.values():
                        lib.jvs_repo_interrupt(h)
                fwd = self.forward_fd
            if fwd >= 0:
                try:
                    os.write(fwd, data)
                except OSError:
                    pass


_watcher: Optional[_Watcher] = None


def _reset_after_fork() -> None:  # the child has no watcher thread: make a new one when needed
    global _watcher
    _watcher = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


class SigintGuard:
    """Ctrl-C during one long call on the main thread: interrupt the call, raise afterwards.

    ``enter()`` installs the wakeup fd and a recording SIGINT handler; ``exit()`` restores both
    and, if SIGINT arrived meanwhile, runs the original handler (raising KeyboardInterrupt by
    default). Between the two, the main thread is inside libjvs (or in a progress callable).
    """

    __slots__ = ("handle", "hit", "prev_handler", "prev_fd")

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.hit = False
        self.prev_handler: Any = None
        self.prev_fd = -1

    @staticmethod
    def wanted() -> bool:
        """On the main thread, with a Python-level SIGINT handler (else Python would not
        raise KeyboardInterrupt anyway)."""
        if not INTERRUPT_ON_SIGINT or threading.current_thread() is not threading.main_thread():
            return False
        try:
            return callable(_sig.getsignal(_SIGINT))
        except (ValueError, AttributeError):  # pragma: no cover - exotic embeddings
            return False

    def _record(self, signum: int, frame: Any) -> None:
        self.hit = True

    def enter(self) -> None:
        global _watcher
        w = _watcher or _Watcher()
        _watcher = w
        self.prev_handler = _sig.signal(_SIGINT, self._record)
        self.prev_fd = _sig.set_wakeup_fd(w.write_fd, warn_on_full_buffer=False)
        with w.lock:
            w.forward_fd = self.prev_fd
            w.handles[id(self)] = self.handle

    def exit(self) -> None:
        w = _watcher
        if w is not None:
            with w.lock:
                w.handles.pop(id(self), None)
                w.forward_fd = -1
        _sig.set_wakeup_fd(self.prev_fd)
        _sig.signal(_SIGINT, self.prev_handler)
        if self.hit and callable(self.prev_handler):
            self.prev_handler(signal.SIGINT, sys._getframe(1))


Invoker = Callable[[Any, Any], Tuple[int, Optional[bytes]]]


def invoke(call: Invoker, handle: Any, op: str, progress: Optional[ProgressCallback],
           long_call: bool) -> Dict[str, Any]:
    """Run ``call(cb, user_data)`` (which performs the C call and returns ``take_document``)
    with progress, cancellation and Ctrl-C handled; return the parsed result document."""
    if not long_call:
        status, data = call(ffi.NULL, ffi.NULL)
        return parse_result(status, data, op)
    ctx = CallContext(progress)
    ud = ffi.new_handle(ctx)
    cb = _trampoline if progress is not None else ffi.NULL
    guard = SigintGuard(handle) if SigintGuard.wanted() else None
    if guard is None:
        status, data = call(cb, ud)
    else:
        guard.enter()
        try:
            status, data = call(cb, ud)
        finally:
            guard.exit()  # raises KeyboardInterrupt if Ctrl-C came during the call
    if ctx.exc is not None:
        raise ctx.exc
    return parse_result(status, data, op)


def version_string() -> str:
    return str(ffi.string(lib.jvs_version_string()).decode("utf-8"))


def status_name(status: int) -> str:
    return str(ffi.string(lib.jvs_status_name(status)).decode("utf-8"))


def build_info() -> Dict[str, Any]:
    out = ffi.new("char **")
    status = lib.jvs_build_info(out)
    return parse_result(*take_document(status, out), op="build_info")
