"""The only place that runs SQL: the tables, and one module per domain noun (flows, executions, logs, users,
tokens, secrets, variables, audit, triggers...) holding their queries. It imports nothing above it but the pure
modules tests/test_layout.py lists."""
