"""Publish and consume tasks, one module per broker (the broker clients are in engine/messaging)."""

from engine.tasks.messaging import nats, redis_streams  # noqa: F401 - importing registers the task types
