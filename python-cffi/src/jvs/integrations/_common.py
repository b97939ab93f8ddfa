"""What the framework adapters share: the missing-extra error, note text, per-worktree locks."""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from typing import Dict, MutableMapping

from ..workspace import Workspace

__all__ = ["missing_extra", "note_text", "worktree_lock", "async_worktree_lock"]

#: Notes written by the adapters are one line of at most this many characters: enough to name a
#: tool call or a task, short enough to read in ``jvs history``.
NOTE_LIMIT = 200


def missing_extra(module: str, framework: str, extra: str) -> ImportError:
    """The ImportError an adapter raises when its framework is absent or too old."""
    # The extra is named, and installed from a checkout: the name `jvs` on PyPI is another project's.
    return ImportError('%s needs %s: install the "%s" extra of the jvs SDK '
                       '(pip install "./python-cffi[%s]" from a checkout)' % (module, framework, extra, extra))


def note_text(text: str, limit: int = NOTE_LIMIT) -> str:
    """``text`` as a snapshot note: one line, no NUL (which the library refuses), clipped."""
    line = " ".join(text.replace("\0", " ").split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# Tool calls of one agent turn may run at the same time (LangChain runs them on a thread pool,
# AutoGen gathers them). A rollback restores the whole worktree, so it would undo the other
# calls' writes too: guarded calls on one worktree are therefore serialised.
_locks_guard = threading.Lock()
_thread_locks: Dict[str, threading.Lock] = {}
_loop_locks: MutableMapping[asyncio.AbstractEventLoop, Dict[str, asyncio.Lock]] = weakref.WeakKeyDictionary()


def _key(ws: Workspace) -> str:
    return os.path.realpath(ws.path)


def worktree_lock(ws: Workspace) -> threading.Lock:
    """The process-wide lock serialising guarded calls on ``ws``'s worktree (threads)."""
    with _locks_guard:
        return _thread_locks.setdefault(_key(ws), threading.Lock())


def async_worktree_lock(ws: Workspace) -> asyncio.Lock:
    """The lock serialising guarded calls on ``ws``'s worktree within the running event loop."""
    loop = asyncio.get_running_loop()
    with _locks_guard:
        per_loop = _loop_locks.setdefault(loop, {})
        return per_loop.setdefault(_key(ws), asyncio.Lock())
