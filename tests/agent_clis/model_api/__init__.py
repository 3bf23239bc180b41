"""Doubles of the model APIs the agent CLIs speak, served on 127.0.0.1, recording the
prompts they receive."""
