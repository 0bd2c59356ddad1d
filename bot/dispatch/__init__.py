"""How events reach handlers: a Router of routes with declared needs, the Context a handler is
handed, and the Dispatcher that checks the needs and collects what handlers say."""

from bot.dispatch.context import Context
from bot.dispatch.dispatcher import Dispatcher
from bot.dispatch.router import Needs, Router

__all__ = ["Context", "Dispatcher", "Needs", "Router"]
