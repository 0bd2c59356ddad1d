"""The web side: health check, platform webhooks (and later the /admin dashboard)."""

from bot.web.app import create_web_app
from bot.web.webhooks import SecretHeader, WebhookAuth

__all__ = ["SecretHeader", "WebhookAuth", "create_web_app"]
