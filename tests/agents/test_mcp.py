"""jvs-mcp: the real server process, spawned and driven by the mcp SDK's own stdio client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

pytest.importorskip("mcp.server.mcpserver", reason="the MCP Python SDK 2.x is not installed")

from conftest import subprocess_env  # noqa: E402
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402

import jvs  # noqa: E402

SERVER = [sys.executable, "-m", "jvs.integrations.mcp"]


def server_params(workspace: Path) -> StdioServerParameters:
    return StdioServerParameters(command=SERVER[0], args=SERVER[1:] + [str(workspace)], env=subprocess_env())


class Tools:
    """Calls a tool and returns (is_error, the JSON document of its text)."""

    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def __call__(self, tool: str, /, **args: Any) -> Tuple[bool, Dict[str, Any]]:
        result: Any = await self.session.call_tool(tool, args)
        (content,) = result.content
        return bool(result.is_error), json.loads(content.text)

    async def ok(self, tool: str, /, **args: Any) -> Dict[str, Any]:
        err, doc = await self(tool, **args)
        assert not err, doc
        return doc

    async def refused(self, tool: str, code: str, /, **args: Any) -> Dict[str, Any]:
        err, doc = await self(tool, **args)
        assert err and doc["kind"] == "error" and doc["error"]["code"] == code, doc
        assert doc["schema"] == 1 and doc["error"]["hint"] and doc["error"]["message"]
        return doc


async def scenario(repo: Path, outside: Path) -> None:
    main = repo / "main"
    async with stdio_client(server_params(repo)) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            listed = await session.list_tools()
            assert sorted(t.name for t in listed.tools) == ["diff", "fork", "history", "restore",
                                                           "snapshot", "verify"]
            call = Tools(session)

            # no snapshot yet: every file is unsaved
            doc = await call.refused("restore", "E_UNSAVED_CHANGES", ref="HEAD")
            assert doc["error"]["details"]["totals"] == {"added": 1}

            first = await call.ok("snapshot", note="baseline", tags=["base"])
            assert first["kind"] == "snapshot" and first["snapshot"]["note"] == "baseline"
            (main / "a.txt").write_text("changed\n")
            (main / "new.txt").write_text("new\n")

            diff = await call.ok("diff")
            assert diff["kind"] == "diff"
            assert [c["path"] for c in diff["added"]] == ["new.txt"]
            assert [c["path"] for c in diff["modified"]] == ["a.txt"]

            # unsaved changes: restore refuses (nothing touched) unless discard=true
            doc = await call.refused("restore", "E_UNSAVED_CHANGES", ref="base")
            assert doc["error"]["details"]["totals"] == {"added": 1, "modified": 1}
            assert doc["error"]["op"] == "restore" and doc["error"]["status_name"] == "JVS_E_CONFLICT"
            assert (main / "new.txt").exists()
            plan = await call.ok("restore", ref="base", dry_run=True)
            assert plan["dry_run"] is True and (main / "new.txt").exists()
            done = await call.ok("restore", ref="base", discard=True)
            assert done["kind"] == "restore" and done["snapshot_id"] == first["snapshot"]["snapshot_id"]
            assert not (main / "new.txt").exists() and (main / "a.txt").read_text() == "alpha\n"

            # a clean worktree restores without discard
            (main / "b.txt").write_text("b\n")
            second = await call.ok("snapshot", note="with b", paths=["b.txt", str(main / "a.txt")])
            assert second["snapshot"]["partial_paths"] == ["b.txt", "a.txt"]
            assert (await call.ok("restore", ref="HEAD"))["snapshot_id"] == second["snapshot"]["snapshot_id"]

            hist = await call.ok("history", limit=5)
            assert [s["note"] for s in hist["snapshots"]] == ["with b", "baseline"]
            tagged = await call.ok("history", tag="base", grep="base")
            assert [s["note"] for s in tagged["snapshots"]] == ["baseline"]
            stat = await call.ok("diff", from_ref="base", to_ref="HEAD", stat=True)
            assert stat["totals"]["added"] == 1, stat

            fork = await call.ok("fork", name="experiment", from_ref="base")
            assert fork["kind"] == "worktree" and fork["worktree"]["name"] == "experiment"
            fork_dir = Path(fork["worktree"]["path"])
            assert repo in fork_dir.parents
            (fork_dir / "exp.txt").write_text("e\n")
            exp = await call.ok("snapshot", note="in the fork", worktree="experiment")
            assert exp["snapshot"]["worktree_name"] == "experiment"
            assert [s["note"] for s in (await call.ok("history", worktree="experiment"))["snapshots"]][0] \
                == "in the fork"

            verify = await call.ok("verify")
            assert verify["kind"] == "verify" and verify["ok"] is True

            # confinement: no worktree by path, no partial path leaving the worktree
            await call.refused("snapshot", "E_NAME_INVALID", worktree=str(outside))
            await call.refused("history", "E_NAME_INVALID", worktree="../..")
            await call.refused("snapshot", "E_PATH_ESCAPE", paths=["../../etc"])
            await call.refused("snapshot", "E_PATH_ESCAPE", paths=[str(outside / "x")])
            await call.refused("fork", "E_NAME_INVALID", name="../escape")
            assert not (repo.parent / "escape").exists() and not list(outside.iterdir())

            # the library's own errors come back as its error documents
            await call.refused("restore", "E_REF_NOT_FOUND", ref="no-such-snapshot")
            await call.refused("diff", "E_WORKTREE_NOT_FOUND", worktree="nope")


def test_mcp_server_over_stdio(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.mkdir()
    with jvs.Workspace.init(repo) as ws:
        (ws.path / "a.txt").write_text("alpha\n")
    asyncio.run(asyncio.wait_for(scenario(repo, outside), 120))


def test_mcp_server_refuses_a_path_that_is_no_workspace(tmp_path: Path) -> None:
    r = subprocess.run(SERVER + [str(tmp_path)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=subprocess_env(), timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert "jvs-mcp:" in r.stderr and "E_NOT_REPO" in r.stderr
