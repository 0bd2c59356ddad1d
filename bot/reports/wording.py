"""The Vietnamese words of the filed report (DOCX and XLSX): figure names, KPI statuses, the
period in words. One place, so both files name a figure the same way."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from content.templates import vn_number

NO_DATA = "chưa có dữ liệu"

FIGURES = {
    "sent_chats": "Lượt gửi tới nhóm",
    "audience": "Lượt người nhận",
    "ack_audience": "Lượt người được đề nghị xác nhận",
    "acknowledged": "Đã bấm “Đã hiểu”",
    "acknowledged_rate": "Tỷ lệ “Đã hiểu” (%)",
    "answered": "Trả lời câu hỏi",
    "understood": "Trả lời đúng",
    "understood_rate": "Tỷ lệ trả lời đúng (%)",
    "engaged": "Lượt người tương tác",
    "engaged_rate": "Tỷ lệ tương tác (%)",
    "failed": "Lượt gửi không thành công",
    "uncertain": "Lượt gửi chưa rõ kết quả",
    "expired": "Lượt gửi quá hạn",
    "waiting": "Lượt gửi đang chờ",
}
RATES = frozenset({"acknowledged_rate", "understood_rate", "engaged_rate"})
POSTS = "Số bài đã gửi"

STATUS = {
    "met": "Đạt",
    "on_track": "Đúng tiến độ",
    "behind": "Chưa đạt",
    "not_measurable": "Chưa đo được",
}
AUDIENCES = {
    "parents": "Phụ huynh",
    "students": "Học sinh",
    "teachers": "Giáo viên",
    "staff": "Cán bộ",
    "managers": "Cán bộ quản lý",
    "officials": "Cán bộ phường/xã",
    "community": "Người dân",
    "businesses": "Doanh nghiệp",
    "": "Không phân loại",
}
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def figure(value: Any) -> str:
    """A figure as the report prints it: 1.234, 66,7; a rate without a base has no data."""
    return NO_DATA if value is None else vn_number(value)


def audience(name: str) -> str:
    return AUDIENCES.get(name, name)


def target(kpi: Mapping[str, Any]) -> str:
    """ "= 100%", "≥ 2 (mỗi năm)"."""
    t = kpi["target"]
    comparator = {">=": "≥", "<=": "≤"}.get(t["comparator"], t["comparator"])
    unit = "%" if t["unit"] == "percent" else ""
    per = {"year": " mỗi năm", "quarter": " mỗi quý", "month": " mỗi tháng"}.get(t["per"] or "", "")
    return f"{comparator} {vn_number(t['value'])}{unit}{per}"


def period_words(period: Mapping[str, str]) -> str:
    """quý IV năm 2026, 6 tháng đầu năm 2026, năm 2026, từ ngày 01/03/2026 đến ngày 31/05/2026."""
    label = period["label"]
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", label):
        return f"quý {ROMAN[int(m[2])]} năm {m[1]}"
    if m := re.fullmatch(r"(\d{4})-H([12])", label):
        return f"6 tháng {'đầu' if m[2] == '1' else 'cuối'} năm {m[1]}"
    if re.fullmatch(r"\d{4}", label):
        return f"năm {label}"
    first, last = date.fromisoformat(period["from"]), date.fromisoformat(period["to"])
    return f"từ ngày {first:%d/%m/%Y} đến ngày {last:%d/%m/%Y}"
