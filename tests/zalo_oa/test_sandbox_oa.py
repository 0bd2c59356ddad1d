"""The sandbox's Zalo OA through its control API and raw HTTP, shaped as Zalo's docs."""

from __future__ import annotations

from typing import Any

import aiohttp

from bot.sandbox import Sandbox
from bot.sandbox.zalo_oa_api import APP_ID, FIRST_REFRESH_TOKEN, OA_ID, SECRET_KEY


async def _json(resp: aiohttp.ClientResponse) -> Any:
    return await resp.json(content_type=None)


async def test_followers_groups_and_seen_through_the_control_api(sandbox: Sandbox) -> None:
    api = f"{sandbox.url}/sandbox/api"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/users", json={"name": "Phụ huynh Lan"}) as r:
            user = (await _json(r))["id"]
        async with http.post(f"{api}/zalo-oa/followers", json={"user_id": user}) as r:
            chat = await _json(r)
        assert (chat["platform"], chat["type"], chat["id"]) == ("zalo_oa", "private", user)
        group_body = {
            "platform": "zalo_oa",
            "type": "group",
            "title": "Nhóm OA lớp 1A",
            "members": [user, OA_ID],
        }
        async with http.post(f"{api}/chats", json=group_body) as r:
            group = await _json(r)
        async with http.get(f"{api}/chats") as r:
            listed = {c["id"]: c["platform"] for c in await _json(r)}
        assert listed[user] == listed[group["id"]] == "zalo_oa"
        async with http.get(f"{sandbox.url}/sandbox") as r:  # the UI lists OA chats too
            assert "Nhóm OA lớp 1A" in await r.text()

        form = {
            "refresh_token": FIRST_REFRESH_TOKEN,
            "app_id": APP_ID,
            "grant_type": "refresh_token",
        }
        async with http.post(
            f"{sandbox.url}/zalo-oa/v4/oa/access_token",
            data=form,
            headers={"secret_key": SECRET_KEY},
        ) as r:
            token = (await _json(r))["access_token"]
        head = {"access_token": token}
        async with http.get(
            f"{sandbox.url}/zalo-oa/v3.0/oa/group/getgroup",
            params={"group_id": str(group["id"])},
            headers=head,
        ) as r:
            assert (await _json(r))["data"]["group_info"]["total_member"] == 1
        body = {"recipient": {"user_id": str(user)}, "message": {"text": "Tin"}}
        async with http.post(
            f"{sandbox.url}/zalo-oa/v3.0/oa/message/cs", json=body, headers=head
        ) as r:
            assert (await _json(r))["error"] == -230  # never wrote: outside the window
        async with http.post(
            f"{sandbox.url}/zalo-oa/v3.0/oa/message/promotion", json=body, headers=head
        ) as r:
            sent = await _json(r)
        assert sent["error"] == 0
        async with http.get(
            f"{sandbox.url}/zalo-oa/v3.0/oa/quota/message",
            params={"user_id": str(user)},
            headers=head,
        ) as r:
            assert (await _json(r))["data"]["promotion"]["remain"] == 0  # one a day
        async with http.post(f"{api}/zalo-oa/seen", json={"user_id": user}) as r:
            assert r.status == 200
        seen = sandbox.zalo_oa.state.events[-1]
        assert seen["event_name"] == "user_seen_message"
        assert seen["message"]["msg_ids"] == [sent["data"]["message_id"]]
        long = {"recipient": {"user_id": str(user)}, "message": {"text": "a" * 2001}}
        async with http.post(
            f"{sandbox.url}/zalo-oa/v3.0/oa/message/transaction", json=long, headers=head
        ) as r:
            assert (await _json(r))["error"] == -201
