"""The sender alone, as its own process: `python -m bot.worker`.

The crash tests kill this process with SIGKILL mid-broadcast and start it again. It recovers
in-flight rows as uncertain at start, so run at most one sender per database (`loa run`
includes one).
"""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.app import StartupError, build_sender, check_database, telegram_adapter
from bot.config import ConfigError, Settings, load_settings
from bot.domain import Platform
from bot.runtime import configure_logging, run
from bot.storage import deliveries
from bot.storage.db import Database


async def run_sender(settings: Settings) -> None:
    db = Database(settings.database_url)
    await check_database(db)
    await deliveries.recover_in_flight(db)
    adapter = telegram_adapter(settings)
    await adapter.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sender = build_sender(settings, db, {Platform.TELEGRAM: adapter})
    print("sender ready", flush=True)
    try:
        await sender.run(stop)
    finally:
        await adapter.stop()
        await db.dispose()


def main() -> int:
    try:
        settings = load_settings()
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        run(run_sender(settings))
    except StartupError as e:
        print(f"cannot start: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
