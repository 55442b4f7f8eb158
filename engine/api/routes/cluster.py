"""The installation's processes and health, for administrators (the studio's Cluster page shows the same)."""

from __future__ import annotations

from fastapi import APIRouter

from engine.api.deps import Caller, connections
from engine.services.cluster import ClusterView, cluster_view

router = APIRouter(tags=["cluster"])


@router.get("/cluster")
def cluster(caller: Caller) -> ClusterView:
    """Executors, schedulers, workers, API and studio processes alive (each from its heartbeat: a process silent for
    ``heartbeat_timeout`` seconds has left), with the task runs each worker holds; the queue depth; whether the
    database and Redis answer. Global administrators only (403 otherwise)."""
    conn = connections()
    return cluster_view(caller, conn.db, conn.redis)
