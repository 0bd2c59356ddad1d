"""Control API routes for the sandbox's Zalo OA, under /sandbox/api/zalo-oa/.

GET/POST `zalo-oa` (settings: webhook_url, sign_with_oa_id, promotion_monthly_quota, app_id,
webhook_secret), POST `zalo-oa/followers {user_id}` (follow), DELETE `zalo-oa/followers/{id}`
(unfollow), POST `zalo-oa/seen {user_id, msg_ids?}` (the follower opens the OA's messages; all
of them without msg_ids), POST `zalo-oa/refresh-tokens` (a new valid refresh token, as
re-authorising in Zalo's console gives), POST `zalo-oa/expire` (every access token expires).
Groups are `POST chats {platform: "zalo_oa", type: "group", members: [..., 2000000002]}`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from .events import WorldError

if TYPE_CHECKING:
    from .control_api import ControlApi

_SETTINGS = {
    "webhook_url": (str, type(None)),
    "sign_with_oa_id": (bool,),
    "promotion_monthly_quota": (int,),
    "app_id": (str,),
    "webhook_secret": (str,),
}


def add_routes(r: web.UrlDispatcher, control: ControlApi) -> None:
    oa = control.sb.zalo_oa

    async def settings(request: web.Request) -> web.Response:
        if request.method == "POST":
            body: dict[str, Any] = await request.json()
            for name, value in body.items():
                kinds = _SETTINGS.get(name)
                if kinds is None or not isinstance(value, kinds):
                    raise WorldError(f"{name}: unknown setting or wrong type")
            oa.configure(**body)
            if "webhook_url" in body and body["webhook_url"] is None:
                oa.state.webhook_url = None
        return web.json_response(oa.describe())

    async def follow(request: web.Request) -> web.Response:
        body = await request.json()
        user = control._user(int(body.get("user_id", 0)))
        chat = oa.follow(user)
        return web.json_response(control.chat_summary(chat))

    async def unfollow(request: web.Request) -> web.Response:
        oa.unfollow(control._user(int(request.match_info["user_id"])))
        return web.json_response({"ok": True})

    async def seen(request: web.Request) -> web.Response:
        body = await request.json()
        user_id = int(body.get("user_id", 0))
        msg_ids = body.get("msg_ids") or oa.msg_ids_of(user_id)
        try:
            oa.seen(user_id, list(msg_ids))
        except web.HTTPNotFound as e:
            raise WorldError(e.reason, 404) from None
        return web.json_response({"ok": True})

    async def refresh_token(request: web.Request) -> web.Response:
        return web.json_response({"refresh_token": oa.issue_refresh_token()})

    async def expire(request: web.Request) -> web.Response:
        oa.expire_access_tokens()
        return web.json_response({"ok": True})

    r.add_get("/zalo-oa", settings)
    r.add_post("/zalo-oa", settings)
    r.add_post("/zalo-oa/followers", follow)
    r.add_delete("/zalo-oa/followers/{user_id}", unfollow)
    r.add_post("/zalo-oa/seen", seen)
    r.add_post("/zalo-oa/refresh-tokens", refresh_token)
    r.add_post("/zalo-oa/expire", expire)
