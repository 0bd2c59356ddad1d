"""Sign-in by the one-time link the bot sends, sessions, sign-out and CSRF: who gets in, who
does not, and what a forged form does (nothing)."""

from __future__ import annotations

from datetime import timedelta

from bot.storage.models import utcnow
from tests.web.admin.conftest import CSRF, Site, staff


async def test_an_official_signs_in_through_the_link_once(any_site: Site) -> None:
    official = await staff(any_site.world, "Hùng", "official", "phuong-a")
    link = await any_site.link(official)
    response = await any_site.open_link(link)
    assert response.status == 200
    text = await response.text()
    assert "Tổng quan" in text and "Hùng" in text
    cookie = response.history[0].cookies["loa_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["max-age"]
    # the same link again, even from the same browser: refused
    again = await any_site.open_link(link)
    assert again.status == 403
    assert "đã được dùng" in await again.text()


async def test_an_expired_link_is_refused(site: Site) -> None:
    official = await staff(site.world, "Hùng", "official", "phuong-a")
    link = await site.link(official)
    site.dash.now = lambda: utcnow() + timedelta(minutes=11)
    response = await site.open_link(link)
    assert response.status == 403
    assert "hết hạn" in await response.text()
    site.dash.now = utcnow
    assert (await site.client.get("/admin/")).status == 401


async def test_a_parent_is_refused_in_chat_and_a_guessed_link_opens_nothing(site: Site) -> None:
    parent = await staff(site.world, "Mai", "parent", "th-a")
    [text] = await site.world.say(parent, "/dangnhap")
    assert "chỉ dành cho cán bộ phường/xã và ban giám hiệu" in text
    assert "/admin/vao/" not in text
    bare = await site.client.get("/admin", allow_redirects=False)
    assert bare.status == 308 and bare.headers["Location"] == "/admin/"
    guessed = str(site.client.make_url("/admin/vao/")) + "A" * 43
    response = await site.open_link(guessed)
    assert response.status == 403
    assert (await site.client.get("/admin/")).status == 401
    teacher = await staff(site.world, "Lan", "teacher", "th-a")
    [text] = await site.world.say(teacher, "/dangnhap")
    assert "/admin/vao/" not in text


async def test_a_form_without_the_session_token_does_nothing(site: Site) -> None:
    official = await staff(site.world, "Hùng", "official", "phuong-a")
    await site.sign_in(official)
    missing = await site.client.post("/admin/dangxuat", data={})
    forged = await site.client.post("/admin/dangxuat", data={"csrf": "x" * 43})
    assert missing.status == forged.status == 403
    assert (await site.client.get("/admin/")).status == 200  # still signed in
    # the sign-in form's own token: a POST to a link without it spends nothing
    link = await site.link(official)
    path = link.split(str(site.client.make_url("")), 1)[1]
    assert (await site.client.post(path, data={"csrf": "forged"})).status == 403
    assert (await site.open_link(link)).status == 200


async def test_after_sign_out_the_old_session_is_dead(site: Site) -> None:
    official = await staff(site.world, "Hùng", "official", "phuong-a")
    await site.sign_in(official)
    old = site.client.session.cookie_jar.filter_cookies(site.client.make_url("/admin/"))
    stolen = old["loa_session"].value
    response = await site.client.post("/admin/dangxuat", data={"csrf": await site.csrf()})
    assert response.status == 200 and "đã đăng xuất" in await response.text()
    site.client.session.cookie_jar.update_cookies(
        {"loa_session": stolen}, site.client.make_url("/admin/")
    )
    assert (await site.client.get("/admin/")).status == 401


async def test_signing_in_again_rotates_the_session(site: Site) -> None:
    official = await staff(site.world, "Hùng", "official", "phuong-a")
    await site.sign_in(official)
    url = site.client.make_url("/admin/")
    first = site.client.session.cookie_jar.filter_cookies(url)["loa_session"].value
    await site.sign_in(official)
    second = site.client.session.cookie_jar.filter_cookies(url)["loa_session"].value
    assert first != second
    site.client.session.cookie_jar.update_cookies({"loa_session": first}, url)
    assert (await site.client.get("/admin/")).status == 401  # the replaced one ended


async def test_a_role_taken_away_ends_the_dashboard(site: Site) -> None:
    from sqlmodel import delete

    from bot.storage.models import Role

    official = await staff(site.world, "Hùng", "official", "phuong-a")
    await site.sign_in(official)
    async with site.world.db.session() as session:
        await session.exec(delete(Role))
        await session.commit()
    assert (await site.client.get("/admin/")).status == 401


async def test_cookies_are_secure_behind_https(site: Site) -> None:
    site.dash.secure_cookies = True  # LOA_WEB_BASE_URL=https://…
    official = await staff(site.world, "Hùng", "official", "phuong-a")
    path = (await site.link(official)).split(str(site.client.make_url("")), 1)[1]
    form = await site.client.get(path)
    pair = form.cookies["loa_signin"]
    assert pair["secure"] and pair["httponly"] and pair["samesite"] == "Lax"
    # this test speaks http: hand the Secure cookie back as an https browser would
    site.client.session.cookie_jar.update_cookies({"loa_signin": pair.value})
    csrf = CSRF.search(await form.text())
    assert csrf
    response = await site.client.post(path, data={"csrf": csrf.group(1)}, allow_redirects=False)
    assert response.status == 303
    cookie = response.cookies["loa_session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["path"] == "/admin/"
    assert form.headers["X-Frame-Options"] == "DENY"
    assert form.headers["Referrer-Policy"] == "no-referrer"
