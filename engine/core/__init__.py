"""The pure core: states and their transitions, what runs next (progress), the DAG of a task list, durations,
retry policies, schedules, expressions in their sandbox, the namespace hierarchy, log levels, the palette and the
refusal kinds. No I/O here: no database, no Redis, no processes."""
