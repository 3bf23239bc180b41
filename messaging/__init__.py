"""Messages to agents: the model, rendering, the durable store, the service that accepts
messages, and the desk that delivers them (screen, tmux pane or inbox) and reports each
outcome."""
