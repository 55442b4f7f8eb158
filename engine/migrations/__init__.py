"""Database schema migrations (Alembic): each revision in versions/, applied on start."""
