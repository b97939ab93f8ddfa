"""Progress helpers: ready-made ``progress=`` callables.

Any callable taking a :class:`~jvs.ProgressEvent` works as ``progress=``. It runs on the thread
that made the call, during the call only; raising from it cancels the operation cleanly (the
exception propagates out of the call). It must not call into jvs.
"""

from __future__ import annotations

import importlib
from types import TracebackType
from typing import Any, Callable, List, Optional, Tuple, Type

from .models import ProgressEvent

__all__ = ["TqdmProgress", "tqdm_progress", "EventLog", "cancel_after"]


class TqdmProgress:
    """Show progress with tqdm: one bar per (operation, phase).

    ::

        from jvs.progress import tqdm_progress
        with tqdm_progress() as bar:
            ws.snapshot("big one", progress=bar)

    Bars count bytes when the phase reports bytes, else items. Extra keyword arguments go to
    ``tqdm.tqdm`` (e.g. ``leave=False``, ``file=sys.stdout``). Requires tqdm
    (``pip install tqdm``); constructing it without tqdm raises ImportError.
    """

    def __init__(self, **tqdm_kwargs: Any) -> None:
        try:
            tqdm_module = importlib.import_module("tqdm")
        except ImportError as e:  # pragma: no cover - exercised only without tqdm
            raise ImportError("jvs.progress.TqdmProgress needs tqdm: pip install tqdm") from e
        self._tqdm: Callable[..., Any] = tqdm_module.tqdm
        self._kwargs = tqdm_kwargs
        self._key: Optional[Tuple[str, str]] = None
        self._bar: Any = None
        self._bytes = False
        self.bars_opened = 0

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind != "progress":
            return
        key = (event.op, event.phase)
        use_bytes = event.bytes_total is not None or event.bytes_done is not None
        if key != self._key or self._bar is None or use_bytes != self._bytes:
            self.close()
            self._key = key
            self._bytes = use_bytes
            kwargs = dict(self._kwargs)
            kwargs.setdefault("desc", "%s: %s" % key)
            if use_bytes:
                kwargs.setdefault("unit", "B")
                kwargs.setdefault("unit_scale", True)
                kwargs.setdefault("unit_divisor", 1024)
            total = (event.bytes_total if use_bytes else event.total) or None
            self._bar = self._tqdm(total=total, **kwargs)
            self.bars_opened += 1
        bar = self._bar
        total = (event.bytes_total if use_bytes else event.total) or None
        if total is not None and bar.total != total:
            bar.total = total
        done = (event.bytes_done or 0) if use_bytes else event.done
        if done >= bar.n:
            bar.update(done - bar.n)
        else:  # counters restarted: show them as they are
            bar.n = done
            bar.refresh()

    def close(self) -> None:
        """Close the current bar (the next event opens a new one)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._key = None

    def __enter__(self) -> "TqdmProgress":
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        self.close()


def tqdm_progress(**tqdm_kwargs: Any) -> TqdmProgress:
    """A :class:`TqdmProgress` (needs tqdm installed)."""
    return TqdmProgress(**tqdm_kwargs)


class EventLog:
    """A ``progress=`` callable that records every event in ``events`` (handy in tests/logs)."""

    def __init__(self) -> None:
        self.events: List[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)


def cancel_after(n: int, exc: Optional[BaseException] = None) -> Callable[[ProgressEvent], None]:
    """A ``progress=`` callable that cancels the operation at its ``n``-th event (1-based) by
    raising ``exc`` (default: ``jvs.Cancelled``)."""
    from .errors import Cancelled

    count = [0]

    def cb(_event: ProgressEvent) -> None:
        count[0] += 1
        if count[0] >= n:
            raise exc if exc is not None else Cancelled("cancelled by progress callable",
                                                        code="E_CANCELLED")

    return cb
