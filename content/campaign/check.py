"""Loading campaign files, and every problem of a content folder as "file:line: message"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.domain import OutboundMessage, Platform
from bot.platforms.base import Capabilities
from bot.platforms.capabilities import CAPABILITIES
from bot.platforms.render import for_platform
from content.campaign.render import Rendered, RenderProblem, callback_bytes, render
from content.campaign.schema import Campaign, Post
from content.campaign.telegram_html import HtmlProblem, check_telegram_html
from content.plans import Plan, PlanFileError, load_plan
from content.templates import TemplateError, Templates
from content.yaml_files import ContentFileError, line_of, load_model


class CampaignFileError(ContentFileError):
    pass


@dataclass(frozen=True)
class LoadedCampaign:
    path: Path
    root: yaml.Node
    campaign: Campaign

    def line(self, *loc: int | str) -> int:
        return line_of(self.root, loc)

    def where(self, index: int) -> str:
        """ "file:line" of the post at `index`."""
        return f"{self.path}:{self.line('posts', index)}"


def load_campaign(path: Path) -> LoadedCampaign:
    """Load and validate one campaign file; raise CampaignFileError with "file:line: message"."""
    try:
        campaign, root = load_model(path, Campaign, "campaign")
    except ContentFileError as e:
        raise CampaignFileError(e.problems) from e
    return LoadedCampaign(path, root, campaign)


def load_plans(folder: Path) -> dict[str, Plan]:
    """The plans of a content folder that load; their problems are check_plans' to report."""
    plans: dict[str, Plan] = {}
    for path in sorted((folder / "plans").glob("*.yaml")):
        try:
            plan = load_plan(path)
        except PlanFileError:
            continue
        plans.setdefault(plan.id, plan)
    return plans


def load_campaigns(folder: Path) -> tuple[list[LoadedCampaign], list[str]]:
    """Every campaigns/*.yaml of a content folder that loads, and the problems of the others."""
    loaded: list[LoadedCampaign] = []
    problems: list[str] = []
    for path in sorted((folder / "campaigns").glob("*.yaml")):
        try:
            loaded.append(load_campaign(path))
        except CampaignFileError as e:
            problems.extend(e.problems)
    return loaded, problems


def check_campaigns(folder: Path) -> list[str]:
    """Problems of every campaign in a content folder: schema, plan references, duplicate ids,
    and each post rendered for each of its audiences on each platform."""
    loaded, problems = load_campaigns(folder)
    plans = load_plans(folder)
    templates = Templates(folder / "templates")
    campaign_ids: dict[str, Path] = {}
    post_ids: dict[str, str] = {}
    for item in loaded:
        campaign = item.campaign
        if campaign.id in campaign_ids:
            problems.append(
                f"{item.path}:{item.line('id')}: id {campaign.id!r} is already used by "
                f"{campaign_ids[campaign.id]}"
            )
        campaign_ids.setdefault(campaign.id, item.path)
        plan = plans.get(campaign.plan)
        if plan is None:
            known = ", ".join(sorted(plans)) or "none"
            problems.append(
                f"{item.path}:{item.line('plan')}: plan: no plan {campaign.plan!r} in "
                f"{folder / 'plans'} (known: {known})"
            )
        for i, post in enumerate(campaign.posts):
            if post.id in post_ids:
                problems.append(
                    f"{item.path}:{item.line('posts', i, 'id')}: post id {post.id!r} is "
                    f"already used at {post_ids[post.id]}"
                )
            post_ids.setdefault(post.id, item.where(i))
            for j, audience in enumerate(post.audiences):
                if plan is not None and audience not in plan.audiences:
                    problems.append(
                        f"{item.path}:{item.line('posts', i, 'audiences', j)}: "
                        f"posts.{i}.audiences.{j}: {audience.value!r} is not an audience of "
                        f"plan {plan.id}"
                    )
            problems.extend(_check_post(templates, item, i, post))
    return problems


def _check_post(templates: Templates, item: LoadedCampaign, i: int, post: Post) -> list[str]:
    """The post rendered for each audience, then as each platform shows it (as its adapter
    converts it), measured against that platform's capabilities."""
    where, label = item.where(i), f"post {post.id}"
    problems: list[str] = []
    for audience in post.audiences:
        try:
            shown = render(templates, post, audience.value)
        except RenderProblem as e:
            at = _template_path(templates, e.template)
            at += f":{e.line}" if e.line else ""
            problems.append(f"{where}: {label}: {at}: {e}")
            continue
        problems.extend(_check_html(templates, where, label, post, shown.text))
        for platform, capabilities in CAPABILITIES.items():
            problems.extend(
                f"{where}: {label} for {audience.value}: {problem}"
                for problem in _check_on(templates, shown, platform, capabilities)
            )
    return list(dict.fromkeys(problems))


def _check_on(
    templates: Templates, shown: Rendered, platform: Platform, capabilities: Capabilities
) -> list[str]:
    """What does not fit `platform` in the post as its adapter would send it."""
    try:
        sent = for_platform(OutboundMessage("", shown.text, shown.buttons), capabilities, templates)
    except TemplateError as e:
        return [f"on {platform.value}: {e}"]
    problems = []
    length, most = capabilities.text_length(sent.text), capabilities.max_text_length
    if length > most:
        problems.append(f"{length} characters on {platform.value}, more than its {most}")
    for button in sent.buttons:
        if callback_bytes(button) > capabilities.max_callback_bytes:
            problems.append(
                f"button data {button.data!r} can exceed {capabilities.max_callback_bytes} bytes "
                f"on {platform.value}"
            )
        if len(button.label) > capabilities.max_button_label:
            problems.append(
                f"button label {button.label!r} is longer than {platform.value}'s "
                f"{capabilities.max_button_label} characters"
            )
    return problems


def _check_html(templates: Templates, where: str, label: str, post: Post, text: str) -> list[str]:
    try:
        check_telegram_html(text)
    except HtmlProblem as e:
        path = _template_path(templates, post.template)
        line = _find_in_template(templates, post.template, e.tag)
        if line is not None:
            return [f"{path}:{line}: not Telegram HTML: {e} (in {label}, {where})"]
        return [f"{where}: {label}: {path} renders text that is not Telegram HTML: {e}"]
    return []


def _template_path(templates: Templates, name: str) -> str:
    path = Path(name)
    return str(path if path.is_absolute() else templates.directory / name)


def _find_in_template(templates: Templates, name: str, tag: str | None) -> int | None:
    if not tag:
        return None
    try:
        source = (templates.directory / name).read_text(encoding="utf-8")
    except OSError:
        return None
    for number, line in enumerate(source.splitlines(), start=1):
        if tag in line:
            return number
    return None
