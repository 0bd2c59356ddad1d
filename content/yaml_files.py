"""Content files in YAML, validated by a pydantic model, with problems as "file:line: message"."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class ContentFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def load_model(path: Path, model: type[M], what: str) -> tuple[M, yaml.Node]:
    """The file's content as `model`, and its YAML node tree (for locating later problems).
    Raises ContentFileError listing every problem at its line."""
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else 1
        raise ContentFileError([f"{path}:{line}: {e.problem}"]) from e
    if not isinstance(data, dict) or root is None:
        raise ContentFileError([f"{path}:1: a {what} file must be a mapping"])
    try:
        return model.model_validate(data), root
    except ValidationError as e:
        problems = []
        for err in e.errors():
            loc = tuple(p for p in err["loc"] if not str(p).startswith("function-after"))
            where = ".".join(str(p) for p in loc) or what
            problems.append(f"{path}:{line_of(root, loc)}: {where}: {message_of(err)}")
        raise ContentFileError(problems) from e


def message_of(err: Any) -> str:
    return str(err["msg"]).removeprefix("Value error, ")


def line_of(node: yaml.Node, loc: tuple[int | str, ...]) -> int:
    """The 1-based line of the YAML node at `loc`: a missing key points at its parent mapping,
    an unexpected or invalid key at the key itself."""
    mark = node.start_mark
    for i, part in enumerate(loc):
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == str(part):
                    last = i == len(loc) - 1
                    scalar = isinstance(value, yaml.ScalarNode)
                    mark = key.start_mark if last and not scalar else value.start_mark
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            mark = child.start_mark
        if child is None:
            break
        node = child
    return mark.line + 1
