#!/usr/bin/env python3
"""A LangChain 1.x agent whose tool calls are snapshotted and rolled back by jvs.

    pip install "./python-cffi[langchain]"
    python3 examples/langchain_jvs.py [WORKSPACE_REPO]

Runs offline: the chat model is LangChain's fake chat model, scripted to call the tools (a real
one - ``init_chat_model("openai:gpt-5")`` etc. - drops in unchanged). The agent writes a
module, deletes an obsolete file, then calls a refactoring tool that crashes half-way: jvs
restores the workspace to the snapshot taken just before that call, the agent receives the
error as a tool message and finishes. The history is printed at the end.

The pattern, copy-pasteable::

    import jvs
    from langchain.agents import create_agent
    from jvs.integrations.langchain import JVSMiddleware

    ws = jvs.Workspace("/data/agent-repo")                 # the directory the tools work in
    guard = JVSMiddleware(ws, run_name="refactor")         # mode="both": run + each tool call
    agent = create_agent(model=model, tools=tools, middleware=[guard])
    agent.invoke({"messages": [{"role": "user", "content": "refactor utils.py"}]})

    guard.run_baseline       # snapshot before the run: ws.restore(guard.run_baseline) undoes it all
    guard.run_after          # snapshot after the run ("refactor: <final answer>")
    guard.rollbacks          # the tool calls that failed and were undone

``JVSMiddleware(ws, mode="tool", tools=["write_file"])`` guards only the writing tools;
``JVSCallbackHandler(ws)`` is the observer form for ``config={"callbacks": [...]}``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, List

from langchain.agents import create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import BaseTool, tool

import jvs
from jvs.integrations.langchain import JVSMiddleware


class ScriptedChatModel(GenericFakeChatModel):
    """LangChain's fake chat model cannot bind tools; create_agent needs it to."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedChatModel":
        return self


def scripted_model() -> ScriptedChatModel:
    def calls(name: str, call_id: str, **args: Any) -> AIMessage:
        return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": call_id}])

    return ScriptedChatModel(messages=iter([
        calls("write_file", "call_1", path="utils.py", text="def slugify(s):\n    return s.lower()\n"),
        calls("delete_file", "call_2", path="legacy.py"),
        calls("rename_symbol", "call_3", old="slugify", new="to_slug"),
        AIMessage(content="utils.py written and legacy.py removed; the rename failed and was undone"),
    ]))


def workspace_tools(root: Path) -> List[BaseTool]:
    """The tools the agent edits the workspace with."""

    @tool
    def write_file(path: str, text: str) -> str:
        """Write a text file in the workspace."""
        (root / path).write_text(text)
        return "wrote %s (%d bytes)" % (path, len(text))

    @tool
    def delete_file(path: str) -> str:
        """Delete a file of the workspace."""
        (root / path).unlink()
        return "deleted " + path

    @tool
    def rename_symbol(old: str, new: str) -> str:
        """Rename a symbol in every Python file (crashes half-way, to show the rollback)."""
        for f in sorted(root.glob("*.py")):
            f.write_text(f.read_text().replace(old, new))
            (root / (f.name + ".orig")).write_text("backup")
            raise RuntimeError("parser crashed in %s after rewriting it" % f.name)
        return "nothing to rename"

    return [write_file, delete_file, rename_symbol]


def main(argv: List[str]) -> int:
    repo = Path(argv[0]) if argv else Path(tempfile.mkdtemp(prefix="jvs-langchain-")) / "repo"
    ws = jvs.Workspace.init(repo) if not (repo / ".jvs").exists() else jvs.Workspace(repo)
    with ws:
        for f in ws.path.iterdir():  # a known starting point, also when run again
            f.unlink()
        (ws.path / "legacy.py").write_text("OLD = True\n")
        ws.snapshot("project before the agent")

        guard = JVSMiddleware(ws, run_name="langchain refactor")
        agent = create_agent(model=scripted_model(), tools=workspace_tools(ws.path), middleware=[guard])
        out = agent.invoke({"messages": [{"role": "user", "content": "add utils.py, drop legacy.py, "
                                                                     "rename slugify"}]})

        for m in out["messages"]:
            if isinstance(m, ToolMessage):
                print("tool %-14s %-7s %s" % (m.name, m.status, str(m.content).splitlines()[0]))
        print("agent:", out["messages"][-1].content)
        for r in guard.rollbacks:
            print("rolled back %s (%s) to %s" % (r.tool, r.call_id, r.baseline.id))
        print("files:", sorted(p.name for p in ws.path.iterdir()))
        print("utils.py:", (ws.path / "utils.py").read_text().splitlines()[0])
        print("history (newest first):")
        for s in ws.history():
            print("  %s  %s" % (s.id, s.note))
        assert guard.run_baseline is not None and guard.run_after is not None
        print("undo the whole run with: ws.restore(%r)" % guard.run_baseline.id)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
