"""The tmux lane: terminal agents in tmux panes, reached without a display. The text is
pasted as a bracketed paste from a tmux buffer and submitted with the agent's keys; what the
pane shows (read back as text) is the evidence of each outcome."""
