"""Message brokers: one module per broker (RabbitMQ, MQTT, NATS, Redis, Kafka) speaking the shared shapes of
``engine.messaging.base``, used by the publish/consume tasks (engine/tasks/messaging/) and by realtime triggers."""

# The task registry first: a broker module's errors are task errors (engine.tasks.context), and importing that
# loads the registry, whose broker tasks import the broker modules. Started from a broker module, the cycle would
# find engine.messaging.base half-loaded; started here, every module is whole when another one needs it.
import engine.tasks  # noqa: F401
