"""An OpenAI-compatible server double on 127.0.0.1: ``POST /v1/chat/completions`` answered
as a test says (a text, an error status, or a hang), every request recorded."""

from tests.openai_double.server import OpenAIDouble

__all__ = ["OpenAIDouble"]
