"""/dangnhap: a one-time link to the web dashboard, for officials (their ward) and school admins
(their school). Anyone else is told, in chat, who the dashboard is for."""

from __future__ import annotations

from bot.dispatch import Context, Router
from bot.services import signin
from bot.services.permissions import Action

SIGNIN_PATH = "/admin/vao/"  # bot/web/admin/auth.py serves it


async def send_link(ctx: Context) -> None:
    token = await signin.issue_link(ctx.db, ctx.person_id)
    minutes = int(signin.LINK_LIFETIME.total_seconds() // 60)
    ctx.reply("signin_link", link=f"{ctx.web_url}{SIGNIN_PATH}{token}", minutes=minutes)


def router() -> Router:
    r = Router()
    r.command("dangnhap", private=True, action=Action.DASHBOARD, refusal="signin_refused")(
        send_link
    )
    return r
