"""Who is looking: the session cookie, sign-in by a one-time link, sign-out, and the CSRF check
of every form.

- GET /admin/vao/<token> shows a «Đăng nhập» button and spends nothing: chat apps open links
  to preview them. POST spends the token (once) and opens a new session (a new id at every
  sign-in: the browser's previous session ends). That form carries its own CSRF token, paired
  with a short-lived cookie, because there is no session yet.
- Every other page needs a session of a person who still holds an official or school-admin role;
  every POST needs the session's form token (compared in constant time).
- Cookies: HttpOnly, SameSite=Lax (the link is opened from a chat app, another site), Secure
  when the dashboard is served over https, expiring with the session.
"""

from __future__ import annotations

import logging
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.services import signin
from bot.services.permissions import Action, scope, scopes
from bot.storage.models import Person
from bot.web.admin.deps import VIEWER, Viewer, dashboard
from bot.web.admin.pages import page

log = logging.getLogger(__name__)

COOKIE = "loa_session"
SIGNIN_COOKIE = "loa_signin"  # the sign-in form's CSRF pair, before any session exists
OPEN_PATHS = ("/admin/vao/",)
VIEWER_ACTIONS = (
    Action.DASHBOARD,
    Action.ANNOUNCE,
    Action.APPROVE_ANNOUNCEMENT,
    Action.APPROVE_MODEL,
)
HEADERS = {
    # No scripts at all; inline styles only. No framing, no referrer (a link token in the URL).
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' "
    "data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Signed in, allowed, and (for a POST) the form's token right — or a page saying why."""
    if not request.path.startswith(OPEN_PATHS):
        found = await _viewer(request)
        if found is None:
            return _headers(page(request, "signed_out.html", status=401, reason="signed_out"))
        request[VIEWER] = found
        if request.method == "POST":
            form = await request.post()
            given = form.get("csrf")
            if not signin.same_token(given if isinstance(given, str) else None, found.csrf):
                log.info("dashboard: a form without the session's CSRF token refused")
                return _headers(page(request, "signed_out.html", status=403, reason="csrf"))
    try:
        response = await handler(request)
    except web.HTTPException as e:
        if e.status in (403, 404):  # a page outside the viewer's scope, or none: one answer
            return _headers(page(request, "not_found.html", status=404))
        raise
    return _headers(response)


def _headers(response: web.StreamResponse) -> web.StreamResponse:
    response.headers.update(HEADERS)
    return response


async def _viewer(request: web.Request) -> Viewer | None:
    session_id = request.cookies.get(COOKIE)
    if not session_id:
        return None
    dash = dashboard(request)
    row = await signin.find_session(dash.db, session_id, dash.now())
    if row is None:
        return None
    async with dash.db.read_session() as session:
        person = await session.get(Person, row.person_id)
        allowed = await scopes(session, row.person_id, VIEWER_ACTIONS)
    seen, announce = allowed[Action.DASHBOARD], allowed[Action.ANNOUNCE]
    approve, models = allowed[Action.APPROVE_ANNOUNCEMENT], allowed[Action.APPROVE_MODEL]
    if person is None or not seen:  # erased, or no longer an official or a school admin
        return None
    return Viewer(
        row.person_id,
        person.display_name,
        person.platform,
        person.platform_user_id,
        frozenset(seen),
        frozenset(announce),
        frozenset(approve),
        frozenset(models),
        row.csrf,
    )


async def signin_form(request: web.Request) -> web.StreamResponse:
    pair = secrets.token_urlsafe(24)
    response = page(request, "signin.html", csrf=pair, token=request.match_info["token"])
    _set_cookie(request, response, SIGNIN_COOKIE, pair, max_age=600)
    return response


async def signin_post(request: web.Request) -> web.StreamResponse:
    dash = dashboard(request)
    form = await request.post()
    given = form.get("csrf")
    pair = request.cookies.get(SIGNIN_COOKIE, "")
    if not pair or not signin.same_token(given if isinstance(given, str) else None, pair):
        return page(request, "signed_out.html", status=403, reason="csrf")
    person = await signin.redeem_link(dash.db, request.match_info["token"], dash.now())
    if person is None:
        log.info("dashboard: an expired, used or unknown sign-in link refused")
        return page(request, "signed_out.html", status=403, reason="link")
    async with dash.db.session() as session:
        allowed = await scope(session, person, Action.DASHBOARD)
    if not allowed:
        return page(request, "signed_out.html", status=403, reason="link")
    opened = await signin.open_session(dash.db, person, request.cookies.get(COOKIE), dash.now())
    response = web.Response(status=303, headers={"Location": "/admin/"})
    max_age = int((opened.expires_at - dash.now()).total_seconds())
    _set_cookie(request, response, COOKIE, opened.session_id, max_age=max_age)
    response.del_cookie(SIGNIN_COOKIE, path="/admin/")
    log.info("dashboard: person %d signed in", person)
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await signin.close_session(dashboard(request).db, session_id)
    response = page(request, "signed_out.html", reason="bye")
    response.del_cookie(COOKIE, path="/admin/")
    return response


def _set_cookie(
    request: web.Request, response: web.StreamResponse, name: str, value: str, max_age: int
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/admin/",
        httponly=True,
        samesite="Lax",
        secure=dashboard(request).secure_cookies,
    )


def routes(r: web.RouteTableDef) -> None:
    r.get("/vao/{token}")(signin_form)
    r.post("/vao/{token}")(signin_post)
    r.post("/dangxuat")(signout)
