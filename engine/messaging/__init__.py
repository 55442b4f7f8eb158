"""Message brokers: one module per broker (RabbitMQ, MQTT, NATS, Redis, Kafka) speaking the shared shapes of
``engine.messaging.base``, used by the publish/consume tasks (engine/tasks/messaging/) and by realtime triggers."""
