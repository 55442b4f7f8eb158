"""Monitoring: Prometheus metrics of every process (``lanner_*``, engine/metrics/registry.py), their health
endpoints (/health/live, /health/ready) and the processes' JSON logs. README "Monitoring" says how to scrape."""
