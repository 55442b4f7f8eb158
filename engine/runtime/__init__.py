"""The processes that run flows: executors (executor), workers (worker), schedulers (scheduler), the RQ queue
(queue), what travels through Redis (events, connection), following a run live (live for servers, follow for the
command line), flow-end triggers, and supervising child processes (server, launcher, children)."""
