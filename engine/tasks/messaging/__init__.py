"""Publish and consume tasks, one module per broker (the broker clients are in engine/messaging)."""

from engine.tasks.messaging import (  # noqa: F401 - importing registers the task types
    kafka,
    mqtt,
    nats,
    rabbitmq,
    realtime,
    redis_streams,
)
