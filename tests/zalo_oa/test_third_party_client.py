"""A Zalo OA client no one here wrote, pointed at the sandbox: elizaos-plugin-zalo's
ZaloClient. Its hosts are module constants (no base-URL option), so they are set to the
sandbox's; its calls, bodies and error handling are its own, unchanged."""

from __future__ import annotations

from collections.abc import Iterator

import elizaos_plugin_zalo.client as client_module
import pytest
from elizaos_plugin_zalo import error as errors
from elizaos_plugin_zalo.types import ZaloSendMessageParams

from bot.sandbox import Sandbox, events
from bot.sandbox.zalo_oa_api import APP_ID, FIRST_REFRESH_TOKEN, SECRET_KEY
from tests.zalo_oa.conftest import follower


@pytest.fixture
def pointed_at(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(client_module, "ZALO_OA_API_BASE", f"{sandbox.url}/zalo-oa/v2.0/oa")
    monkeypatch.setattr(client_module, "ZALO_OAUTH_API_BASE", f"{sandbox.url}/zalo-oa/v4")
    yield


async def test_its_token_refresh_is_single_use(sandbox: Sandbox, pointed_at: None) -> None:
    Client = client_module.ZaloClient
    tokens = await Client.refresh_token(APP_ID, SECRET_KEY, FIRST_REFRESH_TOKEN)
    assert tokens["access_token"] and tokens["refresh_token"] != FIRST_REFRESH_TOKEN
    assert int(tokens["expires_in"]) == 90000
    with pytest.raises(errors.TokenRefreshError, match="Invalid refresh token"):
        await Client.refresh_token(APP_ID, SECRET_KEY, FIRST_REFRESH_TOKEN)
    again = await Client.refresh_token(APP_ID, SECRET_KEY, tokens["refresh_token"])
    assert again["access_token"] != tokens["access_token"]
    with pytest.raises(errors.TokenRefreshError):
        await Client.refresh_token(APP_ID, "wrong-secret", again["refresh_token"])


async def test_it_sends_to_a_follower_and_reads_zalos_error_codes(
    sandbox: Sandbox, pointed_at: None
) -> None:
    Client = client_module.ZaloClient
    tokens = await Client.refresh_token(APP_ID, SECRET_KEY, FIRST_REFRESH_TOKEN)
    parent = follower(sandbox, "Phụ huynh Lan")
    events.user_writes(sandbox, sandbox.state.chats[parent.id], parent, "Cho tôi hỏi")
    client = Client(tokens["access_token"])
    try:
        send = ZaloSendMessageParams
        message_id = await client.send_message(send(user_id=str(parent.id), text="Chào chị"))
        assert message_id in sandbox.zalo_oa.state.sent
        texts = [m.text for m in sandbox.state.chats[parent.id].messages.values()]
        assert texts == ["Cho tôi hỏi", "Chào chị"]
        with pytest.raises(errors.ApiError) as stranger:
            await client.send_message(send(user_id="999", text="Chào"))
        assert stranger.value.error_code == -213
        client.set_access_token("not-a-token")
        with pytest.raises(errors.ApiError) as expired:
            await client.send_message(send(user_id=str(parent.id), text="Chào"))
        assert expired.value.error_code == -216
    finally:
        await client.close()
