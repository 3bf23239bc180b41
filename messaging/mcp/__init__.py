"""Agents reach the swarm as a tool: ``cellphone mcp --as Agent-N`` serves the messaging
service, the agent's inbox, its status and devlogs to an agent CLI over MCP (stdio), with
the checks and outcomes of the ``cellphone`` commands."""
