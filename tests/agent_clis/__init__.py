"""The real agent CLIs (Claude Code, Codex CLI, Gemini CLI, Aider) as the tests run them:
installed at pinned versions, each pointed at a double of its model API on 127.0.0.1."""
