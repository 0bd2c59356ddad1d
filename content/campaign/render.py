"""A post as loa's one canonical message: Telegram-HTML text and its answers as buttons.
Adapters convert it for their platform (bot/platforms/render.for_platform)."""

from __future__ import annotations

import re
import traceback
from dataclasses import dataclass
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError

from bot.domain import Button
from content.campaign.schema import Post
from content.templates import Templates

LONGEST_OCCURRENCE_ID = "9" * 19  # a BIGINT
_BLANK_LINES = re.compile(r"\n{3,}")


class RenderProblem(Exception):
    """A template failed. `template`/`line` locate it when Jinja knows where."""

    def __init__(self, message: str, template: str, line: int | None = None) -> None:
        super().__init__(message)
        self.template = template
        self.line = line


@dataclass(frozen=True)
class Rendered:
    text: str  # the Telegram-HTML subset
    buttons: tuple[Button, ...] = ()


def buttons(post: Post) -> tuple[Button, ...]:
    """The answers a person can tap; data carries `{occurrence}` (see bot.services.broadcasts)."""
    if post.ack is not None:
        return (Button(post.ack.label, "ack:{occurrence}"),)
    if post.quiz is not None:
        return tuple(Button(o, f"quiz:{{occurrence}}:{i}") for i, o in enumerate(post.quiz.options))
    if post.rsvp is not None:
        return tuple(Button(o, f"rsvp:{{occurrence}}:{i}") for i, o in enumerate(post.rsvp.options))
    return ()


def callback_bytes(button: Button) -> int:
    """The size of the button's data once the longest occurrence id is filled in."""
    return len(button.data.replace("{occurrence}", LONGEST_OCCURRENCE_ID).encode("utf-8"))


def context(post: Post, audience: str) -> dict[str, Any]:
    """What a post template can use: its variables, `audience`, and a quiz's question/options."""
    values: dict[str, Any] = {**post.variables, "audience": audience, "kind": post.kind.value}
    if post.quiz is not None:
        values.update(question=post.quiz.question, options=post.quiz.options)
    return values


def render_template(templates: Templates, name: str, values: dict[str, Any]) -> str:
    try:
        text = templates.env.get_template(name).render(**values)
    except jinja2.TemplateNotFound as e:
        raise RenderProblem(f"no such template: {e.name}", name) from None
    except jinja2.TemplateSyntaxError as e:
        raise RenderProblem(e.message or "syntax error", e.name or name, e.lineno) from None
    except jinja2.UndefinedError as e:
        raise _located(f"unknown variable: {e.message}", name, e) from None
    except SecurityError as e:
        raise _located(f"not allowed in a template: {e}", name, e) from None
    except (TypeError, ValueError, AttributeError) as e:
        raise _located(f"{type(e).__name__}: {e}", name, e) from None
    return _BLANK_LINES.sub("\n\n", text.strip())


def render(templates: Templates, post: Post, audience: str) -> Rendered:
    """The post for `audience`: its template's text and its answers as buttons."""
    text = render_template(templates, post.template, context(post, audience))
    return Rendered(text, buttons(post))


def _located(message: str, name: str, error: Exception) -> RenderProblem:
    """A problem at the innermost template frame of a rendering error, if there is one."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2") and frame.lineno is not None:
            return RenderProblem(message, frame.filename, frame.lineno)
    return RenderProblem(message, name)
