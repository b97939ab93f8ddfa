"""Adapters between jvs and agent frameworks, each an optional extra of the SDK:

* ``jvs.integrations.langchain``: ``JVSMiddleware`` for ``create_agent`` and the observer
  ``JVSCallbackHandler`` (extra ``langchain``: ``pip install "./python-cffi[langchain]"``).
* ``jvs.integrations.autogen``: ``transactional()`` tools and ``run_task`` (extra ``autogen``).
* ``jvs.integrations.mcp``: the ``jvs-mcp`` MCP server over stdio (extra ``mcp``).

Importing ``jvs`` or this package never imports a framework: only importing one of the modules
above does, and without its framework that import raises ``ImportError`` naming the extra.
"""

from typing import List, Optional


def mcp_main(argv: Optional[List[str]] = None) -> int:
    """The ``jvs-mcp`` console script: the MCP server, or one line saying which extra is missing."""
    import sys

    try:
        from .mcp import main
    except ImportError as e:
        print("jvs-mcp: %s" % e, file=sys.stderr)
        return 2
    return main(argv)
