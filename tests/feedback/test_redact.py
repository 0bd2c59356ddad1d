"""Excerpts of what people wrote, shown to officials: short, without phone numbers, addresses
or the names the code can detect."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.services.redact import excerpt


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("Gọi cho tôi 0912 345 678 nhé", "Gọi cho tôi", "345"),
        ("Liên hệ +84912345678 hoặc a.b@gmail.com", "Liên hệ", "gmail"),
        ("Cảm ơn cô Yên đã chăm các con", "Cảm ơn cô …", "Yên"),
        ("Chị Đ.T.H phản ánh tiền ăn", "phản ánh tiền ăn", "Đ.T.H"),
        ("Hôm qua Nguyễn Văn An bị bắt nạt", "bị bắt nạt", "Nguyễn"),
    ],
)
def test_excerpts_leave_out_phone_numbers_addresses_and_names(
    text: str, kept: str, gone: str
) -> None:
    short = excerpt(text)
    assert kept in short and gone not in short


def test_excerpts_are_short() -> None:
    assert len(excerpt("rất dài " * 100)) <= 141


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_makes_a_short_excerpt(text: str) -> None:
    assert len(excerpt(text)) <= 141


@settings(max_examples=200, deadline=None)
@given(
    st.text(max_size=100),
    st.from_regex(r"(0|\+84 ?)[35789][0-9]{2}[ .]?[0-9]{3}[ .]?[0-9]{3}", fullmatch=True),
    st.text(max_size=100),
)
def test_a_phone_number_anywhere_is_left_out(before: str, phone: str, after: str) -> None:
    short = excerpt(f"{before} {phone} {after}", limit=10_000)
    assert phone.replace(" ", "") not in short.replace(" ", "")
