"""An in-memory, faithful fake of the Telegram Bot API with a control API and a browser UI.

Independent of the rest of loa on purpose: it is a protocol peer, not a mock of loa's code.
"""

from .app import Sandbox, create_app, serve

__all__ = ["Sandbox", "create_app", "serve"]
