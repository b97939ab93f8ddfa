"""AutoGen 0.7: transactional tools, and agent or team tasks run inside a jvs transaction.

Needs ``autogen-agentchat>=0.7`` (``pip install "./python-cffi[autogen]"``)::

    import jvs
    from autogen_agentchat.agents import AssistantAgent
    from jvs.integrations.autogen import run_task, transactional

    ws = jvs.Workspace("/data/agent-repo")
    agent = AssistantAgent("coder", model_client=client,
                           tools=[transactional(write_file, ws), transactional(run_tests, ws)])
    run = await run_task(agent, "make the tests pass", ws)
    print(run.baseline.id, run.after.id, run.result.stop_reason)

* :func:`transactional` wraps any AutoGen tool (a ``BaseTool`` such as ``FunctionTool``) or a
  plain function (made a ``FunctionTool`` first, as ``AssistantAgent`` would): each call runs in
  :func:`jvs.transaction` - a baseline before (the head itself when the worktree has no unsaved
  change, else a new snapshot), a snapshot after, and a restore of the baseline when the tool
  raises. The exception still propagates, so AutoGen reports it to the model as a
  failed call (``is_error=True``) and the agent can react. Calls on one worktree run one at a
  time (AutoGen runs the calls of one model turn concurrently, and a rollback restores the
  whole worktree).
* :func:`run_task` runs ``agent.run(task=...)`` (an agent or a team) inside a transaction: the
  baseline note names the task, the closing snapshot's note records the task and the result's
  last message; if the run raises, the worktree is restored and the exception re-raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, List, Mapping, Optional, Protocol, Union

from ._common import async_worktree_lock, missing_extra, note_text

try:
    from autogen_agentchat.base import TaskResult
    from autogen_core import CancellationToken
    from autogen_core.tools import BaseTool, FunctionTool, Tool, ToolSchema
    from pydantic import BaseModel
except ImportError as _e:  # pragma: no cover - exercised by the no-framework test
    raise missing_extra(__name__, "AutoGen 0.7 (autogen-agentchat)", "autogen") from _e

from ..models import Snapshot
from ..transaction import transaction
from ..workspace import Workspace

__all__ = ["TransactionalTool", "transactional", "transactional_tools", "run_task", "TaskRun", "TaskRunner", "AgentTools"]


#: The type of ``AssistantAgent(tools=...)``.
AgentTools = List[Union[BaseTool[Any, Any], Callable[..., Any], Callable[..., Awaitable[Any]]]]


class TransactionalTool(BaseTool[BaseModel, BaseModel]):
    """An AutoGen tool whose every call is a :func:`jvs.transaction` on a workspace.

    It presents the wrapped tool's name, description and schema unchanged, so the model sees the
    same tool. Attributes ``inner`` (the wrapped tool) and ``workspace``.
    """

    def __init__(self, tool: Union[Tool, Callable[..., Any]], workspace: Workspace) -> None:
        inner: Tool = tool if isinstance(tool, Tool) else FunctionTool(tool, description=tool.__doc__ or "")
        super().__init__(inner.args_type(), inner.return_type(), inner.name, inner.description)
        self.inner = inner
        self.workspace = workspace

    @property
    def schema(self) -> ToolSchema:
        return self.inner.schema

    def return_value_as_string(self, value: Any) -> str:
        return self.inner.return_value_as_string(value)

    async def run(self, args: BaseModel, cancellation_token: CancellationToken) -> Any:
        return await self.run_json(args.model_dump(), cancellation_token)

    async def run_json(self, args: Mapping[str, Any], cancellation_token: CancellationToken,
                       call_id: Optional[str] = None) -> Any:
        what = "tool %s (call %s)" % (self.name, call_id or "-")
        async with async_worktree_lock(self.workspace):
            async with transaction(self.workspace, note=note_text(what),
                                   baseline_note=note_text("before: " + what)):
                return await self.inner.run_json(args, cancellation_token, call_id=call_id)


def transactional(tool: Union[Tool, Callable[..., Any]], workspace: Workspace) -> TransactionalTool:
    """Make ``tool`` (an AutoGen tool or a plain typed function) transactional on ``workspace``."""
    return TransactionalTool(tool, workspace)


def transactional_tools(tools: Iterable[Union[Tool, Callable[..., Any]]],
                        workspace: Workspace) -> AgentTools:
    """:func:`transactional` applied to each of ``tools`` (typed as AutoGen's tool list, so
    that it can be passed to ``AssistantAgent(tools=...)`` as is)."""
    out: AgentTools = [TransactionalTool(t, workspace) for t in tools]
    return out


class TaskRunner(Protocol):
    """Anything with AutoGen's ``run(task=...)``: an agent (``AssistantAgent``) or a team."""

    async def run(self, *, task: Any = None, cancellation_token: Optional[CancellationToken] = None,
                  output_task_messages: bool = True) -> TaskResult: ...


@dataclass(frozen=True)
class TaskRun:
    """What :func:`run_task` returns."""

    result: TaskResult
    baseline: Snapshot  #: what the files were before the task (see :func:`jvs.transaction`)
    after: Snapshot  #: the snapshot taken after it (its note records the task and the result)


def _last_text(result: TaskResult) -> str:
    if not result.messages:
        return ""
    last = result.messages[-1]
    text = getattr(last, "content", "")
    return text if isinstance(text, str) else str(text)


async def run_task(runner: TaskRunner, task: str, workspace: Workspace, *,
                   tags: Optional[Union[str, Iterable[str]]] = None,
                   cancellation_token: Optional[CancellationToken] = None) -> TaskRun:
    """Run an AutoGen agent or team on ``task`` inside :func:`jvs.transaction`.

    The baseline is the worktree's head when it has no unsaved change, else a snapshot noted
    ``before: autogen task: <task>`` (as :func:`jvs.transaction` does); the closing snapshot's note is
    ``autogen task: <task> -> <last message>`` (clipped to one line), with ``tags``. If the run
    raises, the worktree is restored to the baseline and the exception propagates. When tools
    took snapshots during the failed run (transactional tools do), the worktree is *detached*
    afterwards, as after any :func:`jvs.transaction` whose block snapshotted: its files are the
    baseline's; ``ws.fork()`` continues from there, ``ws.restore("HEAD")`` returns to the failed
    run's last snapshot.
    """
    what = "autogen task: " + task
    async with transaction(workspace, note=note_text(what), tags=tags,
                           baseline_note=note_text("before: " + what)) as tx:
        result = await runner.run(task=task, cancellation_token=cancellation_token)
        tx.note = note_text("%s -> %s" % (what, _last_text(result)))
    assert tx.baseline is not None and tx.after is not None
    return TaskRun(result, tx.baseline, tx.after)
