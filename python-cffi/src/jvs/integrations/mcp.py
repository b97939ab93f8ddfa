"""``jvs-mcp``: a Model Context Protocol server giving any agent snapshots of one workspace.

Needs the official ``mcp`` Python SDK 2.x (``pip install "./python-cffi[mcp]"``). Speaks MCP over stdio::

    jvs-mcp /data/agent-repo                 # the repository (its main worktree) ...
    jvs-mcp /data/agent-repo/worktrees/exp1  # ... or one worktree of it
    python -m jvs.integrations.mcp PATH      # the same without the console script

Registering it with an MCP client (Claude Desktop's ``claude_desktop_config.json``, and most other
clients' ``mcpServers`` JSON)::

    {"mcpServers": {"jvs": {"command": "jvs-mcp", "args": ["/data/agent-repo"]}}}

Tools (each returns the library's JSON document as its text; a failure is a tool error whose
text is the library's error document, with its stable ``E_...`` code and a hint):

==========  ==============================================================================
snapshot    ``note``, ``tags``, ``paths`` (a partial snapshot), ``worktree``
restore     ``ref``, ``discard``, ``dry_run``, ``worktree``: refused (``E_UNSAVED_CHANGES``)
            while the worktree has changes no snapshot holds, unless ``discard`` is true
history     ``limit`` (default 20), ``grep``, ``tag``, ``all``, ``worktree``
diff        ``from_ref`` (default the head), ``to_ref`` (default the live files), ``stat``,
            ``worktree``
fork        ``name``, ``from_ref``: a new worktree (inside the repository)
verify      ``ref`` (default every snapshot), ``payload``
==========  ==============================================================================

The server is confined to the repository given at start-up: ``worktree`` is a worktree *name*
of that repository (a path is refused, as is a worktree whose files lie outside the
repository), and ``paths`` are relative to the worktree (absolute ones must lie inside it; ``..``
is refused): refusals are ``E_PATH_ESCAPE`` / ``E_NAME_INVALID`` errors.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ._common import missing_extra

try:
    from mcp.server.mcpserver import MCPServer
    from mcp.types import CallToolResult, TextContent
except ImportError as _e:  # pragma: no cover - exercised by the no-framework test
    raise missing_extra(__name__, "the MCP Python SDK 2.x", "mcp") from _e

from .. import __version__
from .._ffi import lib
from .._native import status_name
from ..errors import JVSError
from ..workspace import Workspace

__all__ = ["WorkspaceTools", "build_server", "main"]


def _error_document(op: str, status: int, code: str, message: str, hint: str,
                    details: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """An error document of the library's shape, for the refusals this server makes itself."""
    return {"schema": 1, "kind": "error",
            "error": {"status": status, "status_name": status_name(status), "code": code,
                      "message": message, "hint": hint, "op": op, "details": details or {}}}


class Refused(Exception):
    """A request the server refuses before calling the library."""

    def __init__(self, document: Dict[str, Any]) -> None:
        super().__init__(document["error"]["message"])
        self.document = document


class WorkspaceTools:
    """The tools' logic, independent of MCP: each method returns a library document or raises
    :class:`~jvs.JVSError` / :class:`Refused` (both carry an error document)."""

    def __init__(self, path: str) -> None:
        self.ws = Workspace(path)
        self.root = os.path.realpath(self.ws.repo_root)
        self.default_worktree = self.ws.worktree_name

    def close(self) -> None:
        self.ws.close()

    # ---- confinement --------------------------------------------------------------------

    def _worktree(self, op: str, name: Optional[str]) -> str:
        """A worktree name of this repository whose files lie inside it (else refused)."""
        if not name:
            return self.default_worktree
        if "/" in name or os.sep in name or name in (".", ".."):
            raise Refused(_error_document(
                op, int(lib.JVS_E_INVALID_ARG), "E_NAME_INVALID",
                "worktree %r is not a worktree name: this server only reaches the worktrees of %s"
                % (name, self.root), "pass a worktree name as listed by history(all=true) or fork",
                {"worktree": name}))
        where = os.path.realpath(str(self.ws.call("worktree_path", {"name": name})["path"]))
        if os.path.commonpath([where, self.root]) != self.root:
            raise Refused(_error_document(
                op, int(lib.JVS_E_INVALID_ARG), "E_PATH_ESCAPE",
                "worktree %r lies outside the workspace %s" % (name, self.root),
                "only worktrees inside the workspace the server was started on are served",
                {"worktree": name, "path": where}))
        return name

    def _paths(self, op: str, worktree: str, paths: Sequence[str]) -> List[str]:
        """Partial-snapshot paths relative to the worktree; anything leaving it is refused."""
        base = str(self.ws.call("worktree_path", {"name": worktree})["path"])
        out = []
        for p in paths:
            rel = os.path.relpath(p, base) if os.path.isabs(p) else p
            if os.path.isabs(rel) or ".." in rel.replace(os.sep, "/").split("/"):
                raise Refused(_error_document(
                    op, int(lib.JVS_E_INVALID_ARG), "E_PATH_ESCAPE",
                    "path %r lies outside worktree %s" % (p, worktree),
                    "give paths relative to the worktree, without '..'", {"path": p}))
            out.append(posixpath.normpath(rel.replace(os.sep, "/")))
        return out

    def _unsaved(self, worktree: str) -> Dict[str, Any]:
        """Totals of the worktree's changes since its head (empty when there are none)."""
        try:
            totals = self.ws.call("diff", {"stat": True, "worktree": worktree}).get("totals") or {}
        except JVSError as e:
            if e.code != "E_NO_SNAPSHOTS":
                raise
            path = str(self.ws.call("worktree_path", {"name": worktree})["path"])
            return {"added": len(os.listdir(path))} if os.listdir(path) else {}
        return {k: v for k, v in totals.items() if v}

    # ---- tools --------------------------------------------------------------------------

    def snapshot(self, note: str = "", tags: Optional[List[str]] = None,
                 paths: Optional[List[str]] = None, worktree: Optional[str] = None) -> Dict[str, Any]:
        wt = self._worktree("snapshot", worktree)
        return self.ws.call("snapshot", {"note": note, **_given({
            "worktree": wt, "tags": list(tags or []), "paths": self._paths("snapshot", wt, paths or [])})})

    def restore(self, ref: str, discard: bool = False, dry_run: bool = False,
                worktree: Optional[str] = None) -> Dict[str, Any]:
        wt = self._worktree("restore", worktree)
        if not dry_run and not discard:
            unsaved = self._unsaved(wt)
            if unsaved:
                raise Refused(_error_document(
                    "restore", int(lib.JVS_E_CONFLICT), "E_UNSAVED_CHANGES",
                    "worktree %s has changes no snapshot holds (%s); restore would overwrite them"
                    % (wt, ", ".join("%d %s" % (n, k) for k, n in sorted(unsaved.items()))),
                    "take a snapshot first, or call restore again with discard=true to drop them",
                    {"worktree": wt, "totals": unsaved}))
        return self.ws.call("restore", _given({"ref": ref, "worktree": wt, "dry_run": dry_run}))

    def history(self, limit: int = 20, grep: Optional[str] = None, tag: Optional[str] = None,
                all: bool = False, worktree: Optional[str] = None) -> Dict[str, Any]:
        return self.ws.call("history", {"limit": int(limit), **_given({
            "worktree": self._worktree("history", worktree), "grep": grep, "tag": tag, "all": all})})

    def diff(self, from_ref: Optional[str] = None, to_ref: Optional[str] = None, stat: bool = False,
             worktree: Optional[str] = None) -> Dict[str, Any]:
        return self.ws.call("diff", _given({
            "worktree": self._worktree("diff", worktree), "from": from_ref, "to": to_ref, "stat": stat}))

    def fork(self, name: Optional[str] = None, from_ref: Optional[str] = None,
             worktree: Optional[str] = None) -> Dict[str, Any]:
        # The library validates the name: a name, never a path.
        return self.ws.call("worktree_fork", _given({
            "worktree": self._worktree("fork", worktree), "name": name, "from": from_ref}))

    def verify(self, ref: Optional[str] = None, payload: bool = True) -> Dict[str, Any]:
        opts: Dict[str, Any] = {"ref": ref} if ref else {"all": True}
        if not payload:
            opts["payload"] = False
        return self.ws.call("verify", opts)


def _given(options: Dict[str, Any]) -> Dict[str, Any]:
    """The options a tool was given: the unset ones (None, "", [], False) keep the library's defaults."""
    return {k: v for k, v in options.items() if v}


def _result(call: Any) -> CallToolResult:
    """Run one tool and turn its document, or its error document, into the MCP result."""
    try:
        doc, error = call(), False
    except (JVSError, Refused) as e:
        doc = e.document or {"schema": 1, "kind": "error", "error": {"code": getattr(e, "code", "E_ERROR"),
                                                                      "message": str(e)}}
        error = True
    return CallToolResult(content=[TextContent(type="text", text=json.dumps(doc, indent=1))], is_error=error)


def build_server(tools: WorkspaceTools) -> "MCPServer[Any]":
    """The MCP server exposing ``tools`` (stdio is started by :func:`main`)."""
    server: "MCPServer[Any]" = MCPServer(
        "jvs", version=__version__,
        instructions="Snapshots of the workspace %s: take a snapshot before risky changes, "
                     "restore one to undo them, fork a worktree to try something aside." % tools.root)

    @server.tool(description="Snapshot the worktree's files (note, tags; paths: a partial snapshot). "
                             "Returns the snapshot document.")
    def snapshot(note: str = "", tags: Optional[List[str]] = None, paths: Optional[List[str]] = None,
                 worktree: Optional[str] = None) -> CallToolResult:
        return _result(lambda: tools.snapshot(note, tags, paths, worktree))

    @server.tool(description="Make the worktree's files exactly those of snapshot `ref` (id, tag, "
                             "prefix, HEAD, ref~N). Refused while the worktree has unsaved changes "
                             "unless discard=true. dry_run=true only shows the plan.")
    def restore(ref: str, discard: bool = False, dry_run: bool = False,
                worktree: Optional[str] = None) -> CallToolResult:
        return _result(lambda: tools.restore(ref, discard, dry_run, worktree))

    @server.tool(description="The worktree's snapshots, newest first (all=true: the whole repository).")
    def history(limit: int = 20, grep: Optional[str] = None, tag: Optional[str] = None, all: bool = False,
                worktree: Optional[str] = None) -> CallToolResult:
        return _result(lambda: tools.history(limit, grep, tag, all, worktree))

    @server.tool(description="What changed between two snapshots, or from a snapshot (default the "
                             "head) to the live files (the unsaved changes).")
    def diff(from_ref: Optional[str] = None, to_ref: Optional[str] = None, stat: bool = False,
             worktree: Optional[str] = None) -> CallToolResult:
        return _result(lambda: tools.diff(from_ref, to_ref, stat, worktree))

    @server.tool(description="Create a new worktree from a snapshot (default the worktree's head) to "
                             "work on aside; returns the worktree document with its path.")
    def fork(name: Optional[str] = None, from_ref: Optional[str] = None,
             worktree: Optional[str] = None) -> CallToolResult:
        return _result(lambda: tools.fork(name, from_ref, worktree))

    @server.tool(description="Check snapshot integrity (one ref, or every snapshot); payload=false "
                             "checks descriptors only.")
    def verify(ref: Optional[str] = None, payload: bool = True) -> CallToolResult:
        return _result(lambda: tools.verify(ref, payload))

    return server


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``jvs-mcp``."""
    parser = argparse.ArgumentParser(
        prog="jvs-mcp", description="MCP server (stdio) exposing snapshot/restore/history/diff/fork/"
                                    "verify on one jvs workspace.")
    parser.add_argument("workspace", nargs="?", default=os.environ.get("JVS_MCP_WORKSPACE"),
                        help="a jvs repository or a path inside one of its worktrees "
                             "(default: $JVS_MCP_WORKSPACE)")
    args = parser.parse_args(argv)
    if not args.workspace:
        parser.error("give the workspace path (or set JVS_MCP_WORKSPACE)")
    try:
        tools = WorkspaceTools(str(Path(args.workspace).expanduser()))
    except JVSError as e:
        print("jvs-mcp: %s" % e, file=sys.stderr)  # stdout belongs to the protocol
        return 2
    try:
        build_server(tools).run("stdio")
    finally:
        tools.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
