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
from the main thread, :func:`invoke` therefore runs the C call on a short-lived helper thread
and waits for it; progress events are relayed back and the user's callable still runs on the
calling (main) thread. A KeyboardInterrupt arriving while waiting calls ``jvs_repo_interrupt``
on the handle (the library then stops and leaves everything as it was) and is re-raised after
the call returned.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import sys
import threading
import warnings
from typing import Any, Callable, Dict, Optional, Tuple, Union

from ._ffi import ffi, lib
from .errors import InvalidArgument, JVSError, JVSWarning, error_from_document
from .models import ProgressEvent

ProgressCallback = Callable[[ProgressEvent], Any]

_tls = threading.local()

#: Set to False to never move long calls off the main thread (Ctrl-C then waits for the call).
INTERRUPT_ON_SIGINT = True


def in_callback() -> bool:
    """True while a progress callable of this thread is running."""
    return bool(getattr(_tls, "in_callback", False))


class _Reply:
    __slots__ = ("event", "value")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.value = 1


class CallContext:
    """Per-call state reachable from the trampoline through ``user_data``."""

    __slots__ = ("progress", "exc", "relay", "interrupted")

    def __init__(self, progress: Optional[ProgressCallback]) -> None:
        self.progress = progress
        self.exc: Optional[BaseException] = None
        self.relay: Optional["queue.SimpleQueue[Any]"] = None
        self.interrupted = False

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
    if ctx.exc is not None or ctx.interrupted:
        return 1
    if ctx.progress is None:
        return 0
    data: bytes = ffi.string(event_json)
    relay = ctx.relay
    if relay is None:
        return ctx.deliver(data)
    reply = _Reply()
    relay.put((data, reply))
    while not reply.event.wait(0.05):
        if ctx.interrupted:
            return 1
    return reply.value


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


def _sigint_relay_wanted() -> bool:
    if not INTERRUPT_ON_SIGINT or threading.current_thread() is not threading.main_thread():
        return False
    try:
        handler = signal.getsignal(signal.SIGINT)
    except (ValueError, AttributeError):  # pragma: no cover - exotic embeddings
        return False
    return callable(handler)


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

    if not _sigint_relay_wanted():
        status, data = call(cb, ud)
        if ctx.exc is not None:
            raise ctx.exc
        return parse_result(status, data, op)

    # Main thread: run the C call on a helper thread so that Ctrl-C can reach us.
    relay: "queue.SimpleQueue[Any]" = queue.SimpleQueue()
    ctx.relay = relay
    finished = threading.Event()
    result: Dict[str, Union[Tuple[int, Optional[bytes]], BaseException]] = {}

    def worker() -> None:
        try:
            result["r"] = call(cb, ud)
        except BaseException as e:  # noqa: B902
            result["r"] = e
        finally:
            finished.set()
            relay.put(None)

    t = threading.Thread(target=worker, name="jvs-%s" % op, daemon=True)
    t.start()
    interrupted = False
    while True:
        try:
            if finished.is_set() and relay.empty():
                break
            try:
                item = relay.get(timeout=0.25)
            except queue.Empty:
                continue
            if item is None:
                continue
            data_ev, reply = item
            reply.value = 1 if interrupted else ctx.deliver(data_ev)
            reply.event.set()
            if isinstance(ctx.exc, KeyboardInterrupt):
                interrupted = True
        except KeyboardInterrupt:
            interrupted = True
            ctx.interrupted = True
            lib.jvs_repo_interrupt(handle)
    t.join()
    r = result["r"]
    if isinstance(r, BaseException):
        raise r
    status, data = r
    if ctx.exc is not None:
        raise ctx.exc
    if interrupted:
        raise KeyboardInterrupt
    return parse_result(status, data, op)


def version_string() -> str:
    return str(ffi.string(lib.jvs_version_string()).decode("utf-8"))


def status_name(status: int) -> str:
    return str(ffi.string(lib.jvs_status_name(status)).decode("utf-8"))


def build_info() -> Dict[str, Any]:
    out = ffi.new("char **")
    status = lib.jvs_build_info(out)
    return parse_result(*take_document(status, out), op="build_info")
