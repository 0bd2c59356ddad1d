"""Schema migrations (Alembic), callable from the CLI and from `loa run` at start."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


async def upgrade(database_url: str) -> None:
    """Bring the database to the newest schema. Alembic's env runs its own event loop,
    so it runs in a worker thread."""
    await asyncio.to_thread(command.upgrade, alembic_config(database_url), "head")
