"""The installation's processes and health for the Cluster page (administrators only: ``engine.services.cluster``
checks the principal before anything is read)."""

from __future__ import annotations

from engine.identity.policy import Principal
from engine.services import cluster as service
from engine.services.cluster import ClusterView, HeldRun, ProcessView
from studio.services import connections

__all__ = ["ClusterView", "HeldRun", "ProcessView", "cluster_view"]


def cluster_view(principal: Principal) -> ClusterView:
    conn = connections()
    return service.cluster_view(principal, conn.db, conn.redis)
