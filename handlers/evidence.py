"""A photo or document sent in private while reporting (/baocao) or just after putting a model
forward (/mohinh): checked (type, size) and kept as evidence (bot/services/evidence.py)."""

from __future__ import annotations

from bot.dispatch import Context
from bot.services import evidence as service
from bot.services.permissions import Action
from bot.storage.models import Conversation, utcnow
from handlers import activities


async def on_file(ctx: Context) -> None:
    file = ctx.event.file
    assert file is not None
    if not ctx.capabilities.keeps_files:  # Zalo Bot: a URL that loa cannot keep
        ctx.reply("evidence_refused", reason="platform")
        return
    if not await ctx.authorize(Action.REPORT_ACTIVITY):
        ctx.reply("evidence_refused", reason="no_target")
        return
    why = service.refusal(file)
    if why is not None:
        ctx.reply(
            "evidence_refused", reason=why, kind=file.kind,
            photo_mb=service.MAX_PHOTO // 2**20, document_mb=service.MAX_DOCUMENT // 2**20,
        )  # fmt: skip
        return
    async with ctx.db.session() as session:
        talk = await session.get(Conversation, ctx.person_id)
        in_progress = None
        if talk is not None and talk.flow == activities.FLOW:
            in_progress = talk.state.get("report")  # the flow stays where it was
        to = await service.target(
            session, ctx.person_id, in_progress if isinstance(in_progress, int) else None, utcnow()
        )
        if to is None:
            ctx.reply("evidence_refused", reason="no_target")
            return
        kept = await service.attach(session, ctx.person_id, ctx.event.platform, file, to)
    if kept is None:
        ctx.reply("evidence_refused", reason="too_many", max=service.MAX_PER_ITEM)
    else:
        ctx.reply("evidence_saved", kind=file.kind, what=to.title, count=kept)
