#!/usr/bin/env python3
"""An AutoGen 0.7 AssistantAgent whose tools edit a jvs workspace inside a transaction.

    pip install "./python-cffi[autogen]"
    python3 examples/autogen_jvs.py [WORKSPACE_REPO] [--fail]

Runs offline: the model is AutoGen's ``ReplayChatCompletionClient`` replaying scripted tool
calls (a real client - ``OpenAIChatCompletionClient(model="gpt-4o")`` etc. - drops in
unchanged). The agent writes a config file, then calls a migration tool that crashes: that one
call is rolled back and the agent sees the error. The whole task runs in ``jvs.transaction``,
whose closing snapshot records the task and the agent's answer. With ``--fail`` the model client
runs out of answers mid-task, the task raises, and the transaction restores the workspace (which
is then detached, since the tools snapshotted after the baseline: fork to go on from it).

The pattern, copy-pasteable::

    import jvs
    from autogen_agentchat.agents import AssistantAgent
    from jvs.integrations.autogen import run_task, transactional_tools

    ws = jvs.Workspace("/data/agent-repo")
    agent = AssistantAgent("coder", model_client=client,
                           tools=transactional_tools([write_file, migrate], ws))
    run = await run_task(agent, "migrate the config", ws)     # or a team: RoundRobinGroupChat(...)
    run.baseline   # the files before the task (the head, or a "before: autogen task: ..." snapshot)
    run.after      # the snapshot after it ("autogen task: migrate the config -> <last message>")

Each tool call is its own transaction: a baseline, a snapshot after, and a rollback when the
tool raises (AutoGen then reports the error to the model, ``is_error=True``).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, List, Union

from autogen_agentchat.agents import AssistantAgent
from autogen_agentchat.messages import ToolCallExecutionEvent
from autogen_core import FunctionCall
from autogen_core.models import CreateResult, ModelInfo, RequestUsage
from autogen_ext.models.replay import ReplayChatCompletionClient

import jvs
from jvs.integrations.autogen import run_task, transactional_tools

# The replay client refuses tools unless the model info says it can call functions.
MODEL_INFO: ModelInfo = {"vision": False, "function_calling": True, "json_output": False,
                         "family": "unknown", "structured_output": False}


def tool_call(call_id: str, name: str, **args: Any) -> CreateResult:
    return CreateResult(finish_reason="function_calls",
                        content=[FunctionCall(id=call_id, name=name, arguments=json.dumps(args))],
                        usage=RequestUsage(prompt_tokens=0, completion_tokens=0), cached=False)


def replay_client(fail: bool) -> ReplayChatCompletionClient:
    turns: List[Union[str, CreateResult]] = [
        tool_call("1", "write_file", path="config.toml", text='[server]\nport = 8080\n'),
        tool_call("2", "migrate_database", version=2),
    ]
    if not fail:
        turns.append("config.toml written; the database migration failed and was rolled back")
    return ReplayChatCompletionClient(turns, model_info=MODEL_INFO)


def workspace_tools(root: Path) -> List[Callable[..., Any]]:
    def write_file(path: str, text: str) -> str:
        """Write a text file in the workspace."""
        (root / path).write_text(text)
        return "wrote " + path

    async def migrate_database(version: int) -> str:
        """Migrate db.json to a schema version (crashes half-way, to show the rollback)."""
        (root / "db.json").write_text('{"version": %d, "rows": "half-migrated"}\n' % version)
        (root / "db.json.lock").write_text("")
        raise RuntimeError("migration to v%d failed: disk quota exceeded" % version)

    return [write_file, migrate_database]


async def run(ws: jvs.Workspace, fail: bool) -> None:
    agent = AssistantAgent("coder", model_client=replay_client(fail),
                           tools=transactional_tools(workspace_tools(ws.path), ws),
                           max_tool_iterations=5)
    try:
        done = await run_task(agent, "add a server config and migrate the database", ws, tags="autogen")
    except ValueError as e:  # the replay client ran out of answers (--fail)
        print("task failed (%s): workspace restored to its baseline" % e)
        # The tools' snapshots of the failed run stay in the repository, after the baseline:
        # the worktree is detached. fork() goes on from the baseline in a new worktree;
        # restore("HEAD") would bring back the failed run's last state.
        print("detached:", ws.detached, "- continue with ws.fork() or ws.restore('HEAD')")
        return
    for event in done.result.messages:
        if isinstance(event, ToolCallExecutionEvent):
            for r in event.content:
                print("tool %-17s %s %s" % (r.name, "error" if r.is_error else "ok   ", r.content))
    print("agent:", done.result.messages[-1].to_text())
    print("baseline", done.baseline.id, "|", done.baseline.note)
    print("after   ", done.after.id, "|", done.after.note)


def main(argv: List[str]) -> int:
    fail = "--fail" in argv
    args = [a for a in argv if not a.startswith("--")]
    repo = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="jvs-autogen-")) / "repo"
    ws = jvs.Workspace.init(repo) if not (repo / ".jvs").exists() else jvs.Workspace(repo)
    with ws:
        if ws.current_snapshot is None:
            (ws.path / "db.json").write_text('{"version": 1, "rows": []}\n')
            ws.snapshot("project before the agent")
        asyncio.run(run(ws, fail))
        print("files:", sorted(p.name for p in ws.path.iterdir()))
        print("db.json:", (ws.path / "db.json").read_text().strip())
        print("history (newest first):")
        for s in ws.history():
            print("  %s  %s" % (s.id, s.note))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
