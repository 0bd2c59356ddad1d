"""Folded words of education communication plans, and OCR-tolerant matching of them."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

from bot.domain import Audience

# Longer phrases first: "cán bộ quản lý" is a manager, a bare "cán bộ" an official.
AUDIENCE_WORDS: list[tuple[str, Audience]] = [
    ("can bo quan ly", Audience.managers),
    ("cha me hoc sinh", Audience.parents),
    ("phu huynh", Audience.parents),
    ("cha me", Audience.parents),
    ("phhs", Audience.parents),
    ("cmhs", Audience.parents),
    ("cbql", Audience.managers),
    ("hoc sinh", Audience.students),
    ("hs", Audience.students),
    ("nguoi hoc", Audience.students),
    ("hoc vien", Audience.students),
    ("sinh vien", Audience.students),
    ("giao vien", Audience.teachers),
    ("gv", Audience.teachers),
    ("nha giao", Audience.teachers),
    ("giang vien", Audience.teachers),
    ("nhan vien", Audience.staff),
    ("hieu truong", Audience.managers),
    ("lanh dao", Audience.managers),
    ("cong chuc", Audience.officials),
    ("vien chuc", Audience.officials),
    ("chuyen vien", Audience.officials),
    ("can bo", Audience.officials),
    ("nhan dan", Audience.community),
    ("nguoi dan", Audience.community),
    ("cong dong", Audience.community),
    ("hoi vien", Audience.community),
    ("doan vien", Audience.community),
    ("doanh nghiep", Audience.businesses),
]
WORKFORCE = {Audience.managers, Audience.teachers, Audience.staff, Audience.officials}

# What a target counts, by the verb or noun that says it; the earliest match in the clause wins.
METRIC_WORDS: list[tuple[str, str]] = [
    ("quan triet", "briefed"),
    ("pho bien", "briefed"),
    ("duoc tuyen truyen", "briefed"),
    ("hieu ro", "understood"),
    ("nam vung", "understood"),
    ("nam duoc", "understood"),
    ("hieu duoc", "understood"),
    ("tiep can", "reached"),
    ("tap huan", "trained"),
    ("boi duong", "trained"),
    ("tham gia dao tao", "trained"),
    ("ke hoach", "plans_built"),
    ("chuyen de", "thematic_sessions"),
    ("toa dam", "thematic_sessions"),
    ("hoi thao", "thematic_sessions"),
    ("mo hinh", "exemplar_models"),
    ("sang kien", "exemplar_models"),
    ("dien hinh", "exemplar_models"),
    ("cau lac bo", "clubs"),
    ("ngay hoi", "events"),
    ("dien dan", "events"),
    ("cuoc thi", "contests"),
    ("tin, bai", "posts"),
    ("tin bai", "posts"),
    ("bai viet", "posts"),
    ("video", "posts"),
    ("tham gia", "participants"),
    ("phan hoi", "feedback_handled"),
]

# Channels, as ids: the folded words that name them.
CHANNEL_WORDS: list[tuple[str, str]] = [
    (r"zalo\s*oa", "zalo_oa"),
    (r"zalo(?!\s*oa)", "zalo"),
    (r"facebook", "facebook"),
    (r"fan\s*page", "fanpage"),
    (r"youtube", "youtube"),
    (r"tik\s*tok", "tiktok"),
    (r"website", "website"),
    (r"cong(?:/trang)? thong tin", "portal"),
    (r"trang thong tin", "portal"),
    (r"loa truyen thanh|truyen thanh|dai truyen thanh", "loudspeaker"),
    (r"phat thanh", "radio"),
    (r"bang tin dien tu", "e_bulletin"),
    (r"ban tin", "newsletter"),
    (r"bao chi", "press"),
    (r"thu dien tu|email", "email"),
    (r"pa-?no|ap phich|bang ron", "posters"),
]


def is_ocr(text: str) -> bool:
    """Whether `text` lost its diacritics (OCR, or typed without them): then words are matched
    approximately."""
    letters = [c for c in text if c.isalpha()]
    return sum(not c.isascii() for c in letters) < 0.15 * max(len(letters), 1)  # proper: ~28%


def find_fuzzy(words: str, folded_text: str, ocr: bool = False, threshold: float = 0.82) -> int:
    """Position of `words` in `folded_text`: exact, or in OCR'd text a same-length window of words
    that is similar enough ("gido vien" for "giao vien"); -1 if absent."""
    exact = re.search(rf"(?<!\w){re.escape(words)}(?!\w)", folded_text)
    if exact:
        return exact.start()
    if not ocr or len(words) < 6:
        return -1
    n = words.count(" ") + 1
    tokens = list(re.finditer(r"\S+", folded_text))
    for i in range(len(tokens) - n + 1):
        window = folded_text[tokens[i].start() : tokens[i + n - 1].end()].strip(",;.")
        if window[:1] == words[:1] and SequenceMatcher(None, window, words).ratio() >= threshold:
            return tokens[i].start()
    return -1
