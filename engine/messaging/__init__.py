"""Message brokers: one module per broker (RabbitMQ, MQTT, NATS, Redis, Kafka) speaking the shared shapes of
``engine.messaging.base``, used by the publish/consume tasks (engine/tasks/messaging/) and by realtime triggers."""

# The task registry first: its broker tasks import these modules, and these modules import engine.tasks.context
# (TaskFailed). Loaded in this order, ``import engine.messaging.rabbitmq`` works as the first import of a process
# (a trigger listener's) instead of meeting a half-initialised module.
import engine.tasks  # noqa: F401
