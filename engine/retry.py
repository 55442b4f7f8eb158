"""Retry policies, for a task or as a flow-wide default."""

from __future__ import annotations

import datetime as dt
import random
from typing import Annotated, Literal

from pydantic import Field, model_validator

from engine.durations import Duration
from engine.spec import Spec


class _RetryBase(Spec):
    interval: Duration
    max_attempts: Annotated[int, Field(ge=1)] | None = None
    max_duration: Duration | None = None
    warning_on_retry: bool = False

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


class ExponentialRetry(_RetryBase):
    type: Literal["exponential"]
    max_interval: Duration | None = None
    delay_factor: Annotated[float, Field(gt=1)] = 2.0

    def delay(self, attempt: int) -> dt.timedelta:
        wait = self.interval * (self.delay_factor ** max(attempt - 1, 0))
        return min(wait, self.max_interval) if self.max_interval else wait


class RandomRetry(_RetryBase):
    type: Literal["random"]
    min_interval: Duration
    max_interval: Duration
    interval: Duration | None = None  # type: ignore[assignment]

    def delay(self, attempt: int) -> dt.timedelta:
        low, high = self.min_interval.total_seconds(), self.max_interval.total_seconds()
        return dt.timedelta(seconds=random.uniform(low, high))  # noqa: S311 - jitter, not security


Retry = Annotated[ConstantRetry | ExponentialRetry | RandomRetry, Field(discriminator="type")]
