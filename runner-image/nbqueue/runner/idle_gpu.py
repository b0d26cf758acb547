"""The profile's idle GPU guard (`idle_gpu` in the runner's payload; docs/configuration.md).

The system sampler hands each GPU sample to `IdleGpuGuard.observe`: while every GPU the runner
sees is below `below_percent` utilisation an idle period runs; once it has lasted `minutes` the
guard acts, once per idle period (a sample at or above the threshold ends the period):
`warn` writes a warning into the running cell's output and the job's log, `stop` ends the job
as failed with the reason, as a deadline does.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("nbqueue.runner")

ACTIONS = ("warn", "stop")


@dataclass(frozen=True)
class IdleGpuSettings:
    below_percent: float
    minutes: float
    action: str

    @classmethod
    def from_payload(cls, spec: object) -> IdleGpuSettings | None:
        """The payload's `idle_gpu` (the sidecar validated it against the config schema); None
        when absent or not usable, which turns the guard off with a log line."""
        if not spec:
            return None
        try:
            settings = cls(
                below_percent=float(spec.get("below_percent", 5)),  # type: ignore[union-attr]
                minutes=float(spec.get("minutes", 30)),  # type: ignore[union-attr]
                action=str(spec.get("action", "warn")),  # type: ignore[union-attr]
            )
        except (AttributeError, TypeError, ValueError) as error:
            log.warning("idle_gpu is not usable (%s): the guard is off", error)
            return None
        if (
            settings.action not in ACTIONS
            or not 0 < settings.below_percent <= 100
            or settings.minutes <= 0
        ):
            log.warning("idle_gpu is not usable (%s): the guard is off", spec)
            return None
        return settings

    def describe(self) -> str:
        return f"GPU idle (<{self.below_percent:g} %) for {self.minutes:g} min"


class IdleGpuGuard:
    """Decides from GPU samples. `act(settings, message)` is called once per idle period, from
    the sampler's thread; `clock` is monotonic seconds."""

    def __init__(
        self,
        settings: IdleGpuSettings,
        act: Callable[[IdleGpuSettings, str], None],
        clock: Callable[[], float] = time.monotonic,
    ):
        self.settings = settings
        self.act = act
        self.clock = clock
        self._since: float | None = None  # start of the current idle period
        self._acted = False  # the current idle period was acted on

    def observe(self, utilizations: list[float]) -> bool:
        """One sample of every GPU's utilisation (percent); True when it made the guard act."""
        if not utilizations or max(utilizations) >= self.settings.below_percent:
            # Busy (or no GPU seen): the idle period, if any, is over.
            self._since, self._acted = None, False
            return False
        now = self.clock()
        if self._since is None:
            self._since = now
        if self._acted or now - self._since < self.settings.minutes * 60:
            return False
        self._acted = True
        self.act(self.settings, self.settings.describe())
        return True
