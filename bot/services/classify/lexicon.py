"""Cue phrases (folded, shorthand expanded) that mark a category or a sentiment in parents'
messages. They serve twice: as extra features of the trained model, and alone as the rule
baseline the model is measured against (`loa feedback evaluate --method rules`)."""

from __future__ import annotations

import re
from typing import Final

from bot.services.classify.features import normalize

CATEGORY_CUES: Final = {
    "misinformation": (
        r"nghe (noi|don)|tin don|don (rang|la)|lan truyen|tren mang|facebook|tiktok|\bclip\b|"
        r"bao tin sai|sai su that|bat coc|cong van|gia mao|mao danh|lua dao|"
        r"that (khong|hay gia)|co dung khong|\bshare\b|chuyen cho nhau|tin nhan noi|dang co tin"
    ),
    "thanks": r"cam on|biet on|tri an|tuyet voi|hai long|yen tam|dang khen|tam ly|tan tinh|tan tam",
    "suggestion": (
        r"de nghi|de xuat|kien nghi|\bnen\b|\bmong\b|gop y|hy vong|xem xet|to chuc them|"
        r"nen co|co the cho"
    ),
    "complaint": (
        r"vo ly|buc xuc|\bqua\b|khong ai|khong dam|phien|\bbat\b|lam thu|qua tai|"
        r"khong dam bao|\bep\b|tru diem|\bchan\b|\bhong\b|\bmuon\b|\bkho\b|ganh nang|khoc|"
        r"thieu|sao ky|linh tinh|qua loa|\blua\b"
    ),
    "question": (
        r"\?|cho (em |minh |toi )?hoi|\bhoi\b|khong a$|bao nhieu|o dau|khi nao|may gio|"
        r"nhu the nao|co phai|lam sao|the nao|bao gio|\bgi\b|\bai\b|co .* khong|duoc khong|chua a"
    ),
    "other": r"^(da|vang|ok|oke|da vang|da xem|em chao|chao)\b|\bchuc\b|xin loi|nham nhom",
}
SENTIMENT_CUES: Final = {
    "positive": (
        r"cam on|biet on|\bvui\b|\bmung\b|tuyet|\bhay\b|hai long|yen tam|\bchuc\b|tien bo|"
        r"\bthich\b|xuc dong|dang khen|ngon|tam ly|tan tinh|tot dep|y nghia|bo ich|huu ich"
    ),
    "negative": (
        r"buc xuc|vo ly|\bqua\b|\blo\b|hoang mang|\bso\b|\bmet\b|khoc|bat coc|ghe|ap luc|"
        r"ganh nang|khong dam|phien|\blua\b|tru diem|\bep\b|mat tich|ngo doc|nang loi|"
        r"cap cuu|linh tinh|qua tai|\bbat\b|khong ai|\bmuon\b|\bhong\b|ngap|sao ky"
    ),
}
_COMPILED: Final = {
    kind: {label: re.compile(rx) for label, rx in cues.items()}
    for kind, cues in (("category", CATEGORY_CUES), ("sentiment", SENTIMENT_CUES))
}
# When cues of several categories match, the first in this order wins: a rumour phrased as a
# question is a misinformation report, a grievance ending in "?" is a complaint.
PRECEDENCE: Final = ("misinformation", "thanks", "suggestion", "complaint", "question", "other")


def cues(text: str) -> list[str]:
    """The cue features of `text`: "cue:<label>" for every category or sentiment cue that
    matches, plus "short" for a message of a few words (acknowledgements, greetings)."""
    joined = " ".join(normalize(text))
    found = [
        f"cue:{label}"
        for compiled in _COMPILED.values()
        for label, rx in compiled.items()
        if rx.search(joined)
    ]
    if len(joined.split()) <= 4:
        found.append("short")
    return found


def rule_category(text: str) -> str:
    found = set(cues(text))
    for label in PRECEDENCE:
        if f"cue:{label}" in found:
            return label
    return "other"


def rule_sentiment(text: str) -> str:
    found = set(cues(text))
    if "cue:negative" in found:
        return "negative"
    if "cue:positive" in found:
        return "positive"
    return "neutral"
