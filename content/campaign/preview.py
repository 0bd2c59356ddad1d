"""`loa content preview`: one post as a platform shows it, for one audience: the canonical
message converted as that platform's adapter converts it."""

from __future__ import annotations

from pathlib import Path

from bot.domain import Audience, OutboundMessage, Platform
from bot.platforms.capabilities import CAPABILITIES
from bot.platforms.render import for_platform
from content.campaign.check import load_campaigns
from content.campaign.render import RenderProblem, render
from content.templates import TemplateError, Templates

# The names people at the ward use on the command line, besides the code's own.
AUDIENCE_ALIASES = {
    "phu_huynh": Audience.parents,
    "hoc_sinh": Audience.students,
    "giao_vien": Audience.teachers,
    "nhan_vien": Audience.staff,
    "can_bo": Audience.staff,
    "can_bo_quan_ly": Audience.managers,
    "lanh_dao": Audience.officials,
    "can_bo_phuong": Audience.officials,
    "cong_dong": Audience.community,
    "doanh_nghiep": Audience.businesses,
}


class PreviewError(Exception):
    pass


def audience_named(name: str) -> Audience:
    if name in AUDIENCE_ALIASES:
        return AUDIENCE_ALIASES[name]
    try:
        return Audience(name)
    except ValueError:
        known = ", ".join([*AUDIENCE_ALIASES, *Audience])
        raise PreviewError(f"unknown audience {name!r} (one of: {known})") from None


def preview(folder: Path, post_id: str, audience: str, platform: Platform) -> str:
    """The post's text and answers as `platform` shows them to `audience`."""
    who = audience_named(audience)
    loaded, _ = load_campaigns(folder)
    posts = {p.id: p for item in loaded for p in item.campaign.posts}
    post = posts.get(post_id)
    if post is None:
        known = ", ".join(sorted(posts)) or "none"
        raise PreviewError(f"no post {post_id!r} in {folder / 'campaigns'} (posts: {known})")
    if who not in post.audiences:
        names = ", ".join(a.value for a in post.audiences)
        raise PreviewError(f"post {post_id!r} is not for {who.value} (its audiences: {names})")
    templates = Templates(folder / "templates")
    try:
        canonical = render(templates, post, who.value)
    except RenderProblem as e:
        raise PreviewError(f"{e.template}:{e.line or 1}: {e}") from None
    message = OutboundMessage("", canonical.text, canonical.buttons)
    try:
        shown = for_platform(message, CAPABILITIES[platform], templates)
    except TemplateError as e:
        raise PreviewError(str(e)) from None
    row = "  ".join(f"[ {b.label} ]" for b in shown.buttons)
    return f"{shown.text}\n\n{row}" if row else shown.text
