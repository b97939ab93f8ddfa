"""Adapters between jvs and agent frameworks. Each one is an optional extra:

==============================  =======================================  ==============================
module                          what it gives                            install
==============================  =======================================  ==============================
``jvs.integrations.langchain``  ``JVSMiddleware`` for ``create_agent``,  ``pip install "jvs[langchain]"``
                                ``JVSCallbackHandler`` (observer)
``jvs.integrations.autogen``    ``transactional()`` tools, ``run_task``  ``pip install "jvs[autogen]"``
``jvs.integrations.mcp``        the ``jvs-mcp`` MCP server (stdio)       ``pip install "jvs[mcp]"``
==============================  =======================================  ==============================

Importing ``jvs`` or this package never imports a framework: only importing one of the modules
above does, and without its framework that import raises ``ImportError`` naming the extra.
"""
