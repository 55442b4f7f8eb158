"""The triggers page: every trigger with its next and last fire, the enable switch and backfills."""
