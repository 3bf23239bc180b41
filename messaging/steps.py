"""How long each step of one delivery took, for the benchmarks: logged at debug level with
the figures in the log record's ``steps`` (seconds by step name), which a logging handler of
the benchmark collects."""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence


class Steps:
    """The time spent in each named step of one delivery: :meth:`mark` ends the step that
    ran since the last mark (a name marked again adds up)."""

    def __init__(self, log: logging.Logger) -> None:
        self.spent: dict[str, float] = {}
        self._log = log
        self._last = time.perf_counter()

    def mark(self, step: str) -> None:
        now = time.perf_counter()
        self.spent[step] = self.spent.get(step, 0.0) + now - self._last
        self._last = now

    def log(self, agent_id: str) -> None:
        if self._log.isEnabledFor(logging.DEBUG):
            shown = ", ".join(f"{step} {spent * 1000:.1f} ms" for step, spent in self.spent.items())
            extra = {"steps": dict(self.spent), "agent_id": agent_id}
            self._log.debug("steps of %s: %s", agent_id, shown, extra=extra)


class StepRecords(logging.Handler):
    """Collects the ``steps`` of the records it handles (add it to the loggers of the
    deliverers, at debug level): one dict of seconds by step name per delivery, and which
    agent's it was and when it ended (``time.time()``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.taken: list[dict[str, float]] = []
        self.ends: list[tuple[str, float]] = []

    def emit(self, record: logging.LogRecord) -> None:
        steps = getattr(record, "steps", None)
        if steps is not None:
            self.taken.append(steps)
            self.ends.append((getattr(record, "agent_id", ""), record.created))

    def clear(self) -> None:
        self.taken.clear()
        self.ends.clear()


def step_names(taken: Iterable[Mapping[str, float]]) -> list[str]:
    """The names of the steps of ``taken`` deliveries, in the order they first came."""
    return list(dict.fromkeys(name for steps in taken for name in steps))


def median_ms(taken: Sequence[Mapping[str, float]], step: str) -> float:
    """The median milliseconds ``step`` took over ``taken`` deliveries (0 for one without
    it)."""
    return statistics.median(steps.get(step, 0.0) for steps in taken) * 1000
