"""Where Lanner keeps its data and which servers it talks to, from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.access import SubflowReach

_REACHES = tuple(reach.value for reach in SubflowReach)


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    redis_url: str | None  # None: start an embedded Redis under ``home``
    mode: str = "development"  # LANNER_MODE; "production" refuses shortcuts such as a generated secret key
    secret_key: str | None = None  # LANNER_SECRET_KEY: encrypts namespace secrets (see engine/crypto.py)
    subflow_reach: str = "root"  # LANNER_SUBFLOW_REACH: where a flow may start subflows (engine/access.py)
    max_output_bytes: int = 1024 * 1024  # LANNER_MAX_OUTPUT_BYTES: a larger output value fails its task

    @property
    def production(self) -> bool:
        return self.mode == "production"

    @property
    def embedded_database(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    home = Path(env.get("LANNER_HOME") or ".lanner").expanduser().resolve()
    database_url = env.get("LANNER_DATABASE_URL") or f"sqlite:///{home / 'lanner.db'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://") :]
    reach = (env.get("LANNER_SUBFLOW_REACH") or "root").strip().lower()
    if reach not in _REACHES:
        raise ValueError(f"LANNER_SUBFLOW_REACH must be one of {', '.join(_REACHES)}, not {reach!r}")
    max_output = (env.get("LANNER_MAX_OUTPUT_BYTES") or "1048576").strip().replace("_", "")
    if not max_output.isdigit() or int(max_output) < 1:
        raise ValueError(f"LANNER_MAX_OUTPUT_BYTES must be a positive number of bytes, not {max_output!r}")
    return Settings(
        home=home,
        database_url=database_url,
        redis_url=env.get("LANNER_REDIS_URL") or None,
        mode=(env.get("LANNER_MODE") or "development").strip().lower(),
        secret_key=env.get("LANNER_SECRET_KEY") or None,
        subflow_reach=reach,
        max_output_bytes=int(max_output),
    )
