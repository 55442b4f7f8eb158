"""The dashboard: KPIs and run-history charts of a namespace or flow over a time window."""
