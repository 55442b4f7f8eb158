"""The audit page: who did what, and when."""
