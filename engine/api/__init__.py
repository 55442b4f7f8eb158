"""Lanner's REST API v1 (FastAPI): served by the studio's backend under /api/v1, or alone by ``lanner api``."""

from engine.api.app import create_app

__all__ = ["create_app"]
