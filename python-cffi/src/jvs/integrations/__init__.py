"""Adapters between jvs and agent frameworks, each an optional extra of the SDK:

* ``jvs.integrations.langchain``: ``JVSMiddleware`` for ``create_agent`` and the observer
  ``JVSCallbackHandler`` (extra ``langchain``: ``pip install "./python-cffi[langchain]"``).
* ``jvs.integrations.autogen``: ``transactional()`` tools and ``run_task`` (extra ``autogen``).
* ``jvs.integrations.mcp``: the ``jvs-mcp`` MCP server over stdio (extra ``mcp``).

Importing ``jvs`` or this package never imports a framework: only importing one of the modules
above does, and without its framework that import raises ``ImportError`` naming the extra.
"""
