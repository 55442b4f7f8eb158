"""Retry policies, for a task or as a flow-wide default."""

from __future__ import annotations

import datetime as dt
import random
from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.core.durations import Duration
from engine.flows.spec import Computed, Spec


class _RetryBase(Spec):
    interval: Computed[Duration]
    """Wait between two attempts (e.g. 30s)."""
    max_attempts: Computed[Annotated[int, Field(ge=1)]] | None = None
    """Most attempts in all, the first included."""
    max_duration: Computed[Duration] | None = None
    """Stop retrying once this much time has passed since the first attempt."""
    warning_on_retry: Computed[bool] = False
    """End in WARNING rather than SUCCESS when it only worked after a retry."""

    @model_validator(mode="after")
    def _bounded(self) -> _RetryBase:
        if self.max_attempts is None and self.max_duration is None:
            raise ValueError("a retry needs maxAttempts or maxDuration, or it would retry forever")
        return self

    def delay(self, attempt: int) -> dt.timedelta:
        """Wait before attempt number ``attempt + 1`` (``attempt`` counts from 1)."""
        return self.interval


class ConstantRetry(_RetryBase):
    type: Literal["constant"]
    """Always the same wait between attempts."""


class ExponentialRetry(_RetryBase):
    type: Literal["exponential"]
    """A wait that grows after each failed attempt."""
    max_interval: Computed[Duration] | None = None
    """The wait never grows beyond this."""
    delay_factor: Computed[Annotated[float, Field(gt=1)]] = 2.0
    """Each wait is the previous one times this factor."""

    def delay(self, attempt: int) -> dt.timedelta:
        wait = self.interval * (self.delay_factor ** max(attempt - 1, 0))
        return min(wait, self.max_interval) if self.max_interval else wait


class RandomRetry(_RetryBase):
    type: Literal["random"]
    """A random wait between minInterval and maxInterval."""
    min_interval: Computed[Duration]
    """Shortest wait between attempts."""
    max_interval: Computed[Duration]
    """Longest wait between attempts."""
    interval: Computed[Duration] | None = None  # type: ignore[assignment]
    """Not used by random retries."""

    def delay(self, attempt: int) -> dt.timedelta:
        low, high = self.min_interval.total_seconds(), self.max_interval.total_seconds()
        return dt.timedelta(seconds=random.uniform(low, high))  # noqa: S311 - jitter, not security


Retry = Annotated[ConstantRetry | ExponentialRetry | RandomRetry, Field(discriminator="type")]
