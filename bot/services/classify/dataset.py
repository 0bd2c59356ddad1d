"""The labelled feedback set: content/feedback/dataset.jsonl, one item a line, with its source;
how it was made and labelled: content/feedback/GUIDE.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

DATASET: Final = Path(__file__).resolve().parents[3] / "content" / "feedback" / "dataset.jsonl"


@dataclass(frozen=True)
class Item:
    id: int
    group: int  # an original and its copy without diacritics share it, and so their split
    split: str  # "train" or "test" (held out: never seen in training)
    variant: str  # "original" or "stripped"
    text: str
    category: str
    sentiment: str
    source: str


def load(path: Path = DATASET) -> list[Item]:
    with path.open(encoding="utf-8") as f:
        return [Item(**json.loads(line)) for line in f if line.strip()]
