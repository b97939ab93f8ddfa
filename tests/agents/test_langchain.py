"""jvs.integrations.langchain against the real LangChain 1.x: create_agent with a scripted
tool-calling chat model, the middleware in each mode (sync and async, parallel tool calls), and
the callback handler (through an agent and on a bare tool)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterable, List

import pytest

pytest.importorskip("langchain.agents", reason="LangChain 1.x is not installed (scripts/install-deps.sh)")

from conftest import files, notes  # noqa: E402
from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import ToolErrorMiddleware  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage  # noqa: E402
from langchain_core.tools import BaseTool, ToolException, tool  # noqa: E402

import jvs  # noqa: E402
from jvs.integrations.langchain import JVSCallbackHandler, JVSMiddleware, JVSToolCallback  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    """LangChain's fake chat model, able to stand behind create_agent(tools=...)."""

    def bind_tools(self, tools: Any, **kwargs: Any) -> "ScriptedModel":
        return self


def call(name: str, call_id: str, **args: Any) -> dict:
    return {"name": name, "args": args, "id": call_id}


def script(*turns: Any) -> ScriptedModel:
    """Each turn: a list of tool calls (one AIMessage) or the final answer (a str)."""
    msgs = [AIMessage(content=t) if isinstance(t, str) else AIMessage(content="", tool_calls=list(t))
            for t in turns]
    return ScriptedModel(messages=iter(msgs))


def make_tools(root: Path) -> List[BaseTool]:
    @tool
    def write_file(path: str, text: str) -> str:
        """Write text to a file of the workspace."""
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
        return "wrote " + path

    @tool
    def delete_file(path: str) -> str:
        """Delete a file of the workspace."""
        (root / path).unlink()
        return "deleted " + path

    @tool
    def broken_refactor(path: str) -> str:
        """Rewrites a file, then crashes half-way."""
        (root / path).write_text("half-written\n")
        (root / "tmp.swp").write_text("junk")
        raise RuntimeError("refactor crashed on " + path)

    @tool
    def lint(path: str) -> str:
        """Writes a report, then fails softly (LangChain turns the error into a message)."""
        (root / "lint.log").write_text("bad\n")
        raise ToolException("lint failed on " + path)

    lint.handle_tool_error = True

    @tool
    def read_file(path: str) -> str:
        """Read a file (no snapshot needed)."""
        return (root / path).read_text()

    return [write_file, delete_file, broken_refactor, lint, read_file]


def run(ws: jvs.Workspace, model: ScriptedModel, middleware: Iterable[Any] = (),
        callbacks: Iterable[Any] = ()) -> List[BaseMessage]:
    agent = create_agent(model=model, tools=make_tools(ws.path), middleware=list(middleware))
    out = agent.invoke({"messages": [{"role": "user", "content": "refactor"}]},
                       config={"callbacks": list(callbacks)})
    return list(out["messages"])


def tool_messages(messages: List[BaseMessage]) -> List[ToolMessage]:
    return [m for m in messages if isinstance(m, ToolMessage)]


FAILING_RUN = (
    [call("write_file", "c1", path="src/new.py", text="print('new')\n")],
    [call("broken_refactor", "c2", path="README.md")],
    "done: new.py added",
)


def test_middleware_both_rolls_back_a_failing_tool_and_the_agent_sees_the_error(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, run_name="refactor run", tags=["agent"])
    msgs = run(ws, script(*FAILING_RUN), [mw])

    # the crashed tool's writes are gone, the earlier tool's stay
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}
    ok, failed = tool_messages(msgs)
    assert ok.status == "success" and ok.content == "wrote src/new.py"
    assert failed.status == "error" and failed.tool_call_id == "c2"
    assert "RuntimeError: refactor crashed on README.md" in str(failed.content)
    assert "rolled back to snapshot" in str(failed.content)
    assert msgs[-1].content == "done: new.py added"  # the agent went on after the error

    assert [(r.tool, r.call_id) for r in mw.rollbacks] == [("broken_refactor", "c2")]
    # a clean worktree is its own baseline (jvs.transaction takes no "before:" snapshot then)
    assert mw.rollbacks[0].baseline.note == "tool write_file (call c1)"
    assert notes(ws) == ["initial", "before: refactor run", "tool write_file (call c1)",
                         "refactor run: done: new.py added"]
    assert mw.run_baseline is not None and mw.run_after is not None
    assert mw.run_after.tags == ["agent"] and not ws.detached
    assert mw.run_after.note == "refactor run: done: new.py added"


def test_middleware_run_mode_keeps_failed_tool_writes(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, mode="run")
    # run mode leaves tools alone: LangChain's own middleware turns the exception into a message
    to_message = ToolErrorMiddleware(on_error=lambda e, request: "tool failed: %s" % e)
    run(ws, script(*FAILING_RUN), [mw, to_message])
    # no per-tool transaction: the half-written file stays, and the run's snapshots bracket it
    assert (ws.path / "README.md").read_text() == "half-written\n"
    assert notes(ws) == ["initial", "before: agent run", "agent run: done: new.py added"]
    assert mw.rollbacks == [] and (ws.path / "tmp.swp").exists()
    ws.restore(mw.run_baseline)  # the run baseline undoes everything the agent did
    assert files(ws.path) == {"README.md": "project\n"}


def test_middleware_tool_mode_takes_no_run_snapshots(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, mode="tool")
    run(ws, script(*FAILING_RUN), [mw])
    assert mw.run_baseline is None and mw.run_after is None
    assert notes(ws)[1:] == ["tool write_file (call c1)"]
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}


def test_middleware_guards_only_the_named_tools(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, mode="tool", tools=["broken_refactor"])
    msgs = run(ws, script([call("read_file", "r1", path="README.md")], *FAILING_RUN), [mw])
    assert tool_messages(msgs)[0].content == "project\n"
    assert notes(ws)[1:] == ["before: tool broken_refactor (call c2)"]
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}


def test_middleware_rolls_back_a_tool_error_returned_as_a_message(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, mode="tool")
    msgs = run(ws, script([call("lint", "l1", path="README.md")], "ok"), [mw])
    (failed,) = tool_messages(msgs)
    assert failed.status == "error" and "lint failed on README.md" in str(failed.content)
    assert not (ws.path / "lint.log").exists()
    assert [r.tool for r in mw.rollbacks] == ["lint"]


def test_middleware_raise_mode_propagates_after_rollback(ws: jvs.Workspace) -> None:
    mw = JVSMiddleware(ws, on_tool_error="raise")
    with pytest.raises(RuntimeError, match="refactor crashed"):
        run(ws, script(*FAILING_RUN), [mw])
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}
    assert mw.run_after is None  # the run did not end: its baseline is there to go back to
    assert notes(ws)[-1] == "tool write_file (call c1)"


def test_middleware_raise_mode_composes_with_langchain_tool_error_middleware(ws: jvs.Workspace) -> None:
    # outermost first: LangChain's middleware sees the exception after jvs rolled back
    to_message = ToolErrorMiddleware(on_error=lambda e, request: "tool failed: %s" % e)
    msgs = run(ws, script(*FAILING_RUN), [to_message, JVSMiddleware(ws, on_tool_error="raise")])
    assert tool_messages(msgs)[-1].content == "tool failed: refactor crashed on README.md"
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}


def test_middleware_parallel_tool_calls_keep_the_successful_ones(ws: jvs.Workspace) -> None:
    """Tool calls of one turn run concurrently; a rollback must not undo the others."""
    mw = JVSMiddleware(ws, mode="tool")
    turn = [call("write_file", "p%d" % i, path="out/%d.txt" % i, text=str(i)) for i in range(4)]
    turn.insert(2, call("broken_refactor", "bad", path="README.md"))
    msgs = run(ws, script(turn, "done"), [mw])
    assert sorted(m.status for m in tool_messages(msgs)) == ["error"] + ["success"] * 4
    assert files(ws.path) == {"README.md": "project\n", **{"out/%d.txt" % i: str(i) for i in range(4)}}
    assert [r.call_id for r in mw.rollbacks] == ["bad"]


def test_middleware_async_agent(ws: jvs.Workspace) -> None:
    root = ws.path

    @tool
    async def awrite(path: str, text: str) -> str:
        """Write a file (async)."""
        (root / path).write_text(text)
        return "wrote"

    @tool
    async def afail(path: str) -> str:
        """Write, then fail (async)."""
        (root / path).write_text("junk")
        raise ValueError("async failure")

    mw = JVSMiddleware(ws, run_name="async run")
    agent = create_agent(model=script([call("awrite", "a1", path="a.txt", text="A")],
                                      [call("afail", "a2", path="b.txt")], "fin"),
                         tools=[awrite, afail], middleware=[mw])
    out = asyncio.run(agent.ainvoke({"messages": [{"role": "user", "content": "go"}]}))
    assert files(root) == {"README.md": "project\n", "a.txt": "A"}
    assert tool_messages(out["messages"])[-1].status == "error"
    assert notes(ws) == ["initial", "before: async run", "tool awrite (call a1)", "async run: fin"]


def test_middleware_rejects_bad_options(ws: jvs.Workspace) -> None:
    with pytest.raises(ValueError):
        JVSMiddleware(ws, mode="each")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        JVSMiddleware(ws, on_tool_error="ignore")  # type: ignore[arg-type]


def test_callback_handler_through_an_agent(ws: jvs.Workspace) -> None:
    handler = JVSCallbackHandler(ws, run_name="observed run")
    assert JVSToolCallback is JVSCallbackHandler
    # LangChain's own middleware hands the tool's exception to the model as a message
    to_message = ToolErrorMiddleware(on_error=lambda e, request: "%s: %s" % (type(e).__name__, e))
    run(ws, script(*FAILING_RUN), [to_message], [handler])
    assert files(ws.path) == {"README.md": "project\n", "src/new.py": "print('new')\n"}
    assert [r.tool for r in handler.rollbacks] == ["broken_refactor"]
    n = notes(ws)
    assert n[1] == "before: observed run" and n[-1] == "observed run: done: new.py added"
    assert n[2:-1] == [
        "before: tool write_file (call c1)", "tool write_file (call c1)",
        "before: tool broken_refactor (call c2)"]


def test_callback_handler_rolls_back_the_run_on_error(ws: jvs.Workspace) -> None:
    handler = JVSCallbackHandler(ws, mode="run", rollback_run_on_error=True)
    with pytest.raises(RuntimeError, match="refactor crashed"):
        run(ws, script(*FAILING_RUN), callbacks=[handler])
    assert files(ws.path) == {"README.md": "project\n"}
    assert handler.run_after is None and handler.run_baseline is not None
    assert ws.current_snapshot == handler.run_baseline


def test_callback_handler_on_a_bare_tool(ws: jvs.Workspace) -> None:
    write_file, _, broken, _, read_file = make_tools(ws.path)
    handler = JVSCallbackHandler(ws, mode="tool", tools=["write_file", "broken_refactor"])
    write_file.invoke({"path": "x.txt", "text": "x"}, config={"callbacks": [handler]})
    read_file.invoke({"path": "x.txt"}, config={"callbacks": [handler]})  # not observed
    with pytest.raises(RuntimeError):
        broken.invoke({"path": "x.txt"}, config={"callbacks": [handler]})
    assert files(ws.path) == {"README.md": "project\n", "x.txt": "x"}
    assert len(notes(ws)) == 4  # initial, write_file before/after, broken before
    assert handler.run_baseline is None


def test_middleware_does_not_hide_jvs_errors(ws: jvs.Workspace) -> None:
    """A transaction that cannot start (a detached worktree) is an error of the run, not of the tool."""
    first = ws.history()[0]
    ws.snapshot("second")
    ws.restore(first)  # detached: no snapshot can be taken
    with pytest.raises(jvs.Detached):
        run(ws, script([call("write_file", "w1", path="x.txt", text="x")], "done"), [JVSMiddleware(ws, mode="tool")])
    assert not (ws.path / "x.txt").exists()  # the tool never ran


def test_callback_handler_rolls_back_a_tool_error_returned_as_a_message(ws: jvs.Workspace) -> None:
    lint = make_tools(ws.path)[3]  # handle_tool_error: LangChain returns the error instead of raising
    handler = JVSCallbackHandler(ws, mode="tool")
    out = lint.invoke({"name": "lint", "args": {"path": "README.md"}, "id": "l9", "type": "tool_call"},
                      config={"callbacks": [handler]})
    assert isinstance(out, ToolMessage) and out.status == "error"
    assert not (ws.path / "lint.log").exists()
    assert [(r.tool, r.call_id, r.error) for r in handler.rollbacks] == [("lint", "l9", "lint failed on README.md")]
    assert notes(ws)[-1] == "before: tool lint (call l9)"
