"""LangChain 1.x: snapshot an agent's workspace around its run and roll back tools that fail.

Needs ``langchain>=1`` (``pip install "./python-cffi[langchain]"``). Two forms:

**Middleware** (recommended: it can change what happens) for ``langchain.agents.create_agent``::

    import jvs
    from langchain.agents import create_agent
    from jvs.integrations.langchain import JVSMiddleware

    ws = jvs.Workspace("/data/agent-repo")
    guard = JVSMiddleware(ws, run_name="fix the tests")          # mode="both" (default)
    agent = create_agent(model=model, tools=[write_file, run_tests], middleware=[guard])
    agent.invoke({"messages": [{"role": "user", "content": "fix the tests"}]})
    print(guard.run_baseline.id, guard.run_after.id, guard.rollbacks)

* ``mode="run"``: a snapshot before the agent runs (``before: <run_name>``) and one after it
  ends (``<run_name>: <final answer>``). ``"tool"``: a :func:`jvs.transaction` around each tool
  call: its baseline (the head when the worktree has no unsaved change, else a snapshot taken
  before the call), a snapshot after it, and when the tool raises (or returns an error
  ``ToolMessage``) the worktree is restored to that baseline. ``"both"``: both.
* A failed tool's error still reaches the agent, as the ``ToolMessage`` (``status="error"``)
  LangChain would show it, saying the workspace was rolled back; ``on_tool_error="raise"``
  re-raises it instead (after the rollback).
* ``tools=["write_file", ...]`` guards only these tools (read-only tools need no snapshots).
* Guarded tool calls on one worktree run one at a time (a rollback restores the whole
  worktree, so it must not undo a parallel call's writes); other tools are not held up.

**Callback handler** (an observer, for code built on callbacks): :class:`JVSCallbackHandler`
snapshots at the start and the end of the top-level run and around each tool, and restores a
tool's starting snapshot when the tool errors. Callbacks cannot change control flow and see
parallel tool calls interleaved, so prefer the middleware when tools may run concurrently::

    handler = JVSCallbackHandler(ws, run_name="nightly agent")
    agent.invoke(inputs, config={"callbacks": [handler]})
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Literal, Optional, Tuple, Union
from uuid import UUID

from ._common import async_worktree_lock, missing_extra, note_text, worktree_lock

try:
    import langchain
    from langchain.agents.middleware import AgentMiddleware, AgentState, ToolCallRequest
    from langchain_core.callbacks import BaseCallbackHandler
    from langchain_core.messages import ToolMessage
    from langgraph.errors import GraphBubbleUp
    from langgraph.runtime import Runtime
    from langgraph.types import Command
except ImportError as _e:  # pragma: no cover - exercised by the no-framework test
    raise missing_extra(__name__, "LangChain 1.x", "langchain") from _e

if int(langchain.__version__.split(".")[0]) < 1:  # pragma: no cover
    raise missing_extra(__name__, "LangChain 1.x (found %s)" % langchain.__version__, "langchain")

from ..models import Snapshot
from ..transaction import Transaction, transaction
from ..workspace import Workspace

__all__ = ["JVSMiddleware", "JVSCallbackHandler", "JVSToolCallback", "ToolRollback", "Mode"]

#: What to snapshot: the agent run, each tool call, or both.
Mode = Literal["run", "tool", "both"]
_ToolResult = Union[ToolMessage, Command[Any]]


@dataclass(frozen=True)
class ToolRollback:
    """A tool call that failed and whose changes were undone."""

    tool: str
    call_id: str
    baseline: Snapshot  #: the snapshot the worktree was restored to
    error: str  #: the error as the agent saw it


class _ToolFailed(Exception):
    """Raised inside the transaction when a tool *returned* an error message, to roll back."""

    def __init__(self, message: ToolMessage) -> None:
        super().__init__(str(message.content))
        self.message = message


def _check_mode(mode: str) -> None:
    if mode not in ("run", "tool", "both"):
        raise ValueError("mode must be 'run', 'tool' or 'both', not %r" % (mode,))


def _final_answer(state: Any) -> str:
    """The text of the agent's last message (for the closing snapshot's note)."""
    messages = state.get("messages") if isinstance(state, dict) else None
    if not messages:
        return ""
    content = getattr(messages[-1], "content", "")
    return content if isinstance(content, str) else str(content)


class JVSMiddleware(AgentMiddleware[AgentState[Any], Any, Any]):
    """Agent middleware: snapshots around the run and a transaction around each tool call.

    Args:
        workspace: the worktree the agent's tools work in.
        mode: ``"run"``, ``"tool"`` or ``"both"`` (default).
        run_name: names the run in the snapshot notes.
        tools: guard only the tools with these names (default: every tool).
        tags: tags of the snapshot taken when the run ends.
        on_tool_error: ``"message"`` (default): the agent receives an error ``ToolMessage``;
            ``"raise"``: the tool's exception propagates (after the rollback).

    Attributes:
        run_baseline: the snapshot taken before the latest run (mode run/both).
        run_after: the snapshot taken when the latest run ended (mode run/both).
        rollbacks: every tool call rolled back so far (:class:`ToolRollback`).
    """

    def __init__(self, workspace: Workspace, *, mode: Mode = "both", run_name: str = "agent run",
                 tools: Optional[Iterable[str]] = None,
                 tags: Optional[Union[str, Iterable[str]]] = None,
                 on_tool_error: Literal["message", "raise"] = "message") -> None:
        super().__init__()
        _check_mode(mode)
        if on_tool_error not in ("message", "raise"):
            raise ValueError("on_tool_error must be 'message' or 'raise', not %r" % (on_tool_error,))
        self.workspace = workspace
        self.mode = mode
        self.run_name = run_name
        self.guarded = None if tools is None else frozenset(tools)
        self.tags = tags
        self.on_tool_error = on_tool_error
        self.run_baseline: Optional[Snapshot] = None
        self.run_after: Optional[Snapshot] = None
        self.rollbacks: List[ToolRollback] = []
        self._record = threading.Lock()

    # ---- the run ------------------------------------------------------------------------

    def before_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> Optional[Dict[str, Any]]:
        if self.mode != "tool":
            self.run_baseline = self.workspace.snapshot(note_text("before: " + self.run_name))
        return None

    def after_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> Optional[Dict[str, Any]]:
        if self.mode != "tool":
            answer = _final_answer(state)
            note = self.run_name + (": " + answer if answer else "")
            self.run_after = self.workspace.snapshot(note_text(note), self.tags)
        return None

    async def abefore_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> Optional[Dict[str, Any]]:
        return await asyncio.to_thread(self.before_agent, state, runtime)

    async def aafter_agent(self, state: AgentState[Any], runtime: Runtime[Any]) -> Optional[Dict[str, Any]]:
        return await asyncio.to_thread(self.after_agent, state, runtime)

    # ---- each tool call -----------------------------------------------------------------

    def _guards(self, request: ToolCallRequest) -> bool:
        return self.mode != "run" and (self.guarded is None or request.tool_call["name"] in self.guarded)

    def _transaction(self, request: ToolCallRequest) -> Transaction:
        call = request.tool_call
        what = "tool %s (call %s)" % (call["name"], call.get("id") or "-")
        return transaction(self.workspace, note=note_text(what), baseline_note=note_text("before: " + what))

    @staticmethod
    def _check_result(result: _ToolResult) -> _ToolResult:
        if isinstance(result, ToolMessage) and result.status == "error":
            raise _ToolFailed(result)  # a tool error LangChain already turned into a message
        return result

    def _failed(self, request: ToolCallRequest, tx: Transaction, exc: Exception) -> ToolMessage:
        """Record the rollback and build what the agent sees (or re-raise, as configured)."""
        if not tx.rolled_back or isinstance(exc, GraphBubbleUp):
            # Not a tool failure that was undone: jvs could not take a snapshot or roll back
            # (Detached, Locked, RollbackError...), or LangGraph interrupts: let it propagate.
            raise exc
        assert tx.baseline is not None
        call = request.tool_call
        shown = str(exc.message.content) if isinstance(exc, _ToolFailed) else "%s: %s" % (type(exc).__name__, exc)
        with self._record:
            self.rollbacks.append(ToolRollback(call["name"], str(call.get("id") or ""), tx.baseline, shown))
        if self.on_tool_error == "raise" and not isinstance(exc, _ToolFailed):
            raise exc
        return ToolMessage(
            content="%s\n(jvs: the workspace was rolled back to snapshot %s, its state before this call)"
                    % (shown, tx.baseline.id),
            tool_call_id=call.get("id") or "", name=call["name"], status="error")

    def wrap_tool_call(self, request: ToolCallRequest,
                       handler: Callable[[ToolCallRequest], _ToolResult]) -> _ToolResult:
        if not self._guards(request):
            return handler(request)
        tx = self._transaction(request)
        with worktree_lock(self.workspace):
            try:
                with tx:
                    return self._check_result(handler(request))
            except Exception as exc:
                return self._failed(request, tx, exc)

    async def awrap_tool_call(self, request: ToolCallRequest,
                              handler: Callable[[ToolCallRequest], Awaitable[_ToolResult]]) -> _ToolResult:
        if not self._guards(request):
            return await handler(request)
        tx = self._transaction(request)
        async with async_worktree_lock(self.workspace):
            try:
                async with tx:
                    return self._check_result(await handler(request))
            except Exception as exc:
                return self._failed(request, tx, exc)


class JVSCallbackHandler(BaseCallbackHandler):
    """Callback observer: snapshots at the top-level run's start and end and around each tool;
    restores a tool's starting snapshot when it errors.

    Args:
        workspace: the worktree the tools work in.
        mode: ``"run"``, ``"tool"`` or ``"both"`` (default).
        run_name: names the run in the snapshot notes.
        tools: observe only the tools with these names (default: every tool).
        rollback_run_on_error: also restore the run's starting snapshot when the whole run
            fails (default False). If tool snapshots were taken meanwhile, the worktree is then
            *detached* (see :func:`jvs.transaction`): ``restore("HEAD")`` or ``fork()`` to go on.

    ``raise_error`` is True: a failing snapshot stops the run instead of being logged and lost.

    Attributes:
        run_baseline, run_after: the snapshots of the latest top-level run.
        rollbacks: every tool rolled back so far (:class:`ToolRollback`).
    """

    raise_error = True

    def __init__(self, workspace: Workspace, *, mode: Mode = "both", run_name: str = "agent run",
                 tools: Optional[Iterable[str]] = None, rollback_run_on_error: bool = False) -> None:
        super().__init__()
        _check_mode(mode)
        self.workspace = workspace
        self.mode = mode
        self.run_name = run_name
        self.observed = None if tools is None else frozenset(tools)
        self.rollback_run_on_error = rollback_run_on_error
        self.run_baseline: Optional[Snapshot] = None
        self.run_after: Optional[Snapshot] = None
        self.rollbacks: List[ToolRollback] = []
        self._root: Optional[UUID] = None
        self._tools: Dict[UUID, Tuple[str, str, Snapshot]] = {}  # run id -> name, call id, before
        self._lock = threading.Lock()

    def on_chain_start(self, serialized: Optional[Dict[str, Any]], inputs: Any, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        # serialized is None for LangGraph nodes; only the top-level run (no parent) counts.
        if parent_run_id is None and self.mode != "tool":
            self._root = run_id
            self.run_baseline = self.workspace.snapshot(note_text("before: " + self.run_name))

    def on_chain_end(self, outputs: Any, *, run_id: UUID, parent_run_id: Optional[UUID] = None,
                     **kwargs: Any) -> None:
        if run_id == self._root:
            self._root = None
            answer = _final_answer(outputs)
            self.run_after = self.workspace.snapshot(
                note_text(self.run_name + (": " + answer if answer else "")))

    def on_chain_error(self, error: BaseException, *, run_id: UUID,
                       parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        if run_id == self._root:
            self._root = None
            if self.rollback_run_on_error and self.run_baseline is not None:
                self.workspace.restore(self.run_baseline)

    def on_tool_start(self, serialized: Optional[Dict[str, Any]], input_str: str, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        name = str((serialized or {}).get("name") or kwargs.get("name") or "tool")
        if self.mode == "run" or (self.observed is not None and name not in self.observed):
            return
        call_id = str(kwargs.get("tool_call_id") or run_id)
        with self._lock:
            before = self.workspace.snapshot(note_text("before: tool %s (call %s)" % (name, call_id)))
            self._tools[run_id] = (name, call_id, before)

    def on_tool_end(self, output: Any, *, run_id: UUID, parent_run_id: Optional[UUID] = None,
                    **kwargs: Any) -> None:
        if isinstance(output, ToolMessage) and output.status == "error":
            # a tool error LangChain turned into a message (handle_tool_error): a failure too
            return self._rollback(run_id, str(output.content))
        with self._lock:
            started = self._tools.pop(run_id, None)
            if started is not None:
                self.workspace.snapshot(note_text("tool %s (call %s)" % started[:2]))

    def on_tool_error(self, error: BaseException, *, run_id: UUID,
                      parent_run_id: Optional[UUID] = None, **kwargs: Any) -> None:
        self._rollback(run_id, "%s: %s" % (type(error).__name__, error))

    def _rollback(self, run_id: UUID, error: str) -> None:
        with self._lock:
            started = self._tools.pop(run_id, None)
            if started is not None:
                name, call_id, before = started
                self.workspace.restore(before)
                self.rollbacks.append(ToolRollback(name, call_id, before, error))


#: The name the product plan gives the callback form.
JVSToolCallback = JVSCallbackHandler
