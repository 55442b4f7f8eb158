"""Publish and consume tasks, one module per broker (the broker clients are in engine/messaging)."""
