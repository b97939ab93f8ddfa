"""jvs.integrations.autogen against the real AutoGen 0.7: AssistantAgent and a team driven by
ReplayChatCompletionClient, transactional FunctionTools and plain functions, concurrent tool
calls, run_task success and failure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List, Union

import pytest

pytest.importorskip("autogen_agentchat", reason="AutoGen (autogen-agentchat) is not installed")
pytest.importorskip("autogen_ext.models.replay", reason="autogen-ext is not installed")

from autogen_agentchat.agents import AssistantAgent  # noqa: E402
from autogen_agentchat.conditions import MaxMessageTermination  # noqa: E402
from autogen_agentchat.messages import ToolCallExecutionEvent  # noqa: E402
from autogen_agentchat.teams import RoundRobinGroupChat  # noqa: E402
from autogen_core import CancellationToken, FunctionCall  # noqa: E402
from autogen_core.models import CreateResult, RequestUsage  # noqa: E402
from autogen_core.tools import FunctionTool  # noqa: E402
from autogen_ext.models.replay import ReplayChatCompletionClient  # noqa: E402
from conftest import files, notes  # noqa: E402

import jvs  # noqa: E402
from jvs.integrations.autogen import TransactionalTool, run_task, transactional, transactional_tools  # noqa: E402

MODEL_INFO: Any = {"vision": False, "function_calling": True, "json_output": False, "family": "unknown",
                   "structured_output": False}


def calls(*spec: Any) -> CreateResult:
    """One model turn calling tools: (id, name, {args}) each."""
    return CreateResult(finish_reason="function_calls",
                        content=[FunctionCall(id=i, name=n, arguments=json.dumps(a)) for i, n, a in spec],
                        usage=RequestUsage(prompt_tokens=0, completion_tokens=0), cached=False)


def client(*turns: Union[str, CreateResult]) -> ReplayChatCompletionClient:
    return ReplayChatCompletionClient(list(turns), model_info=MODEL_INFO)


def make_tools(root: Path) -> List[Any]:
    def write_file(path: str, text: str) -> str:
        """Write text to a file of the workspace."""
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        return "wrote " + path

    async def delete_file(path: str) -> str:
        """Delete a file of the workspace."""
        (root / path).unlink()
        return "deleted " + path

    async def broken_migration(path: str) -> str:
        """Rewrites a file, then crashes."""
        (root / path).write_text("half-migrated\n")
        (root / "migration.lock").write_text("")
        await asyncio.sleep(0.01)  # lets concurrent calls interleave, if they could
        raise RuntimeError("migration crashed on " + path)

    # a plain function, a FunctionTool, and another FunctionTool
    return [write_file, FunctionTool(delete_file, description="Delete a file."),
            FunctionTool(broken_migration, description="Rewrites a file, then crashes.")]


def execution_results(messages: Any) -> List[Any]:
    return [r for m in messages if isinstance(m, ToolCallExecutionEvent) for r in m.content]


def test_agent_task_with_transactional_tools(ws: jvs.Workspace) -> None:
    (ws.path / "old.txt").write_text("old\n")
    ws.snapshot("with old.txt")
    agent = AssistantAgent("coder", model_client=client(
        calls(("1", "write_file", {"path": "src/app.py", "text": "app\n"})),
        calls(("2", "delete_file", {"path": "old.txt"})),
        calls(("3", "broken_migration", {"path": "README.md"})),
        "migrated, except the README"),
        tools=transactional_tools(make_tools(ws.path), ws), max_tool_iterations=5)

    run = asyncio.run(run_task(agent, "migrate the project", ws, tags="autogen"))

    assert files(ws.path) == {"README.md": "project\n", "src/app.py": "app\n"}
    results = execution_results(run.result.messages)
    assert [r.is_error for r in results] == [False, False, True]
    assert results[2].content == "migration crashed on README.md"  # the model saw the error
    assert run.baseline.note == "with old.txt"  # the worktree was clean: its head is the baseline
    assert run.after.note == "autogen task: migrate the project -> migrated, except the README"
    assert run.after.tags == ["autogen"]
    assert notes(ws)[2:] == [
        "tool write_file (call 1)", "tool delete_file (call 2)",
        "autogen task: migrate the project -> migrated, except the README"]
    assert not ws.detached


def test_concurrent_tool_calls_of_one_turn_are_serialised(ws: jvs.Workspace) -> None:
    tools = transactional_tools(make_tools(ws.path), ws)
    turn = calls(("a", "write_file", {"path": "a.txt", "text": "a"}),
                 ("b", "broken_migration", {"path": "README.md"}),
                 ("c", "write_file", {"path": "c.txt", "text": "c"}))
    agent = AssistantAgent("coder", model_client=client(turn, "done"), tools=tools, max_tool_iterations=3)
    result = asyncio.run(agent.run(task="three at once"))
    assert sorted(r.is_error for r in execution_results(result.messages)) == [False, False, True]
    assert files(ws.path) == {"README.md": "project\n", "a.txt": "a", "c.txt": "c"}


def test_team_task_rolls_back_when_the_run_fails(ws: jvs.Workspace) -> None:
    # The replay client runs out of responses after the first tool call: the team run raises.
    agent = AssistantAgent("coder", model_client=client(
        calls(("1", "write_file", {"path": "a.txt", "text": "a"}))),
        tools=[transactional(make_tools(ws.path)[0], ws)], max_tool_iterations=3)
    team = RoundRobinGroupChat([agent], termination_condition=MaxMessageTermination(6))
    with pytest.raises(Exception):
        asyncio.run(run_task(team, "write and never finish", ws))
    assert files(ws.path) == {"README.md": "project\n"}
    # the tool's own snapshots stay in history; the worktree is back at the task's baseline
    assert ws.current_snapshot is not None and ws.current_snapshot.note == "initial"
    assert ws.detached  # the tool's snapshot is the latest: fork() to go on from the baseline


def test_task_on_a_worktree_with_unsaved_changes_snapshots_them_first(ws: jvs.Workspace) -> None:
    (ws.path / "draft.txt").write_text("unsaved\n")
    agent = AssistantAgent("coder", model_client=client("nothing to do"), tools=[])
    run = asyncio.run(run_task(agent, "look around", ws))
    assert run.baseline.note == "before: autogen task: look around"
    assert run.after.note == "autogen task: look around -> nothing to do"


def test_team_task_success(ws: jvs.Workspace) -> None:
    agent = AssistantAgent("coder", model_client=client(
        calls(("1", "write_file", {"path": "team.txt", "text": "t"})), "team done"),
        tools=[transactional(make_tools(ws.path)[0], ws)], max_tool_iterations=3)
    team = RoundRobinGroupChat([agent], max_turns=1)
    run = asyncio.run(run_task(team, "team task", ws))
    assert files(ws.path)["team.txt"] == "t"
    assert run.after.note == "autogen task: team task -> team done"


def test_wrapper_keeps_the_tool_interface_and_runs_directly(ws: jvs.Workspace) -> None:
    write_file, delete_file, broken = make_tools(ws.path)
    wrapped = transactional(broken, ws)
    assert isinstance(wrapped, TransactionalTool) and wrapped.inner is broken
    assert wrapped.name == "broken_migration" and wrapped.schema == broken.schema
    assert transactional(write_file, ws).description == "Write text to a file of the workspace."

    token = CancellationToken()
    with pytest.raises(RuntimeError):
        asyncio.run(wrapped.run_json({"path": "README.md"}, token, call_id="x"))
    assert files(ws.path) == {"README.md": "project\n"}

    plain = transactional(write_file, ws)
    out = asyncio.run(plain.run(plain.args_type()(path="d.txt", text="d"), token))
    assert plain.return_value_as_string(out) == "wrote d.txt"
    assert notes(ws)[-1] == "tool write_file (call -)"
