"""MCP both ways, with the official ``mcp`` SDK: servers we use as tools (:mod:`.servers`,
:mod:`.client`, :mod:`.tools`) and the team offered as an MCP server (:mod:`.serve`)."""
