"""A plan document the rules were not written against: other wording, units and numbers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from bot.cli import main
from content.importer import draft_plan
from content.plans import Plan

DOCUMENT = """\
ỦY BAN NHÂN DÂN XÃ HÒA AN          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
                                   Độc lập - Tự do - Hạnh phúc
Số: 12/KH-UBND                     Hòa An, ngày 05 tháng 8 năm 2026

KẾ HOẠCH
Tuyên truyền phòng, chống đuối nước cho trẻ em
năm học 2026-2027

Căn cứ Chỉ thị số 09/CT-UBND ngày 02/4/2026 của UBND tỉnh về phòng, chống đuối nước;
Thực hiện Công văn số 88/SGDĐT ngày 10/7/2026 của Sở Giáo dục và Đào tạo;
UBND xã Hòa An ban hành Kế hoạch tuyên truyền như sau:

I. MỤC ĐÍCH, YÊU CẦU
- Nâng cao nhận thức của cha mẹ học sinh và cộng đồng về phòng, chống đuối nước.

II. CHỈ TIÊU
- Tối thiểu 85% cha mẹ học sinh được tiếp cận thông tin về an toàn
phòng, chống đuối nước.
- Mỗi trường tổ chức không dưới 03 buổi tọa đàm/năm học cho học sinh.
- Đạt từ 95 % học sinh trở lên nắm vững kỹ năng an toàn khi đi bơi.
- Mỗi quý đăng tải ít nhất 0I tin, bài trên Fanpage của trường.
- Đến hết năm 2027, 100% giáo viên chủ nhiệm được tập huấn kỹ năng sơ cứu.
- Tỷ lệ trẻ em đuối nước tối đa 2% so với năm trước.

III. NỘI DUNG TUYÊN TRUYỀN
1. Các quy định về phòng, chống đuối nước trẻ em.
2. Kỹ năng bơi an toàn và sơ cứu ban đầu.

IV. HÌNH THỨC
- Phát trên loa truyền thanh của xã; gửi vào nhóm Zalo phụ huynh; đăng TikTok của trường.

V. TỔ CHỨC THỰC HIỆN
1. Trạm Y tế xã
- Tập huấn sơ cứu cho giáo viên, phối hợp với Công an xã; hoàn thành trước ngày 30/9/2026.
Kết quả: 100% giáo viên chủ nhiệm được tập huấn.
2. Các trường Mầm non, Tiểu học trên địa bàn xã
- Tổ chức tọa đàm, báo cáo kết quả định kỳ hằng tháng và 6 tháng về UBND xã.

Trên đây là Kế hoạch tuyên truyền phòng, chống đuối nước của UBND xã Hòa An./.
"""

EXPECTED_TARGETS = [
    ("reached", ">=", 85, "percent", "parents", None),
    ("thematic_sessions", ">=", 3, "count", None, "school_year"),
    ("understood", ">=", 95, "percent", "students", None),
    ("posts", ">=", 1, "count", None, "quarter"),
    ("trained", "=", 100, "percent", "teachers", None),
    ("manual", "<=", 2, "percent", None, None),
]


def test_synthetic_plan_imports() -> None:
    plan = draft_plan(DOCUMENT, "hoa_an_duoi_nuoc")
    assert plan["title"] == ("Tuyên truyền phòng, chống đuối nước cho trẻ em năm học 2026-2027")
    assert plan["issuing_unit"] == "ỦY BAN NHÂN DÂN XÃ HÒA AN"
    assert plan["issued_on"] == date(2026, 8, 5)
    assert plan["period"] == {"start": 2026, "end": 2027}
    assert len(plan["legal_bases"]) == 2
    rows = [
        (t["metric"], t["comparator"], t["value"], t["unit"], t.get("audience"), t.get("per"))
        for t in plan["targets"]
    ]
    assert rows == EXPECTED_TARGETS
    assert plan["targets"][0]["description"].endswith("về an toàn phòng, chống đuối nước.")
    assert plan["targets"][4]["by"] == date(2027, 12, 31)
    assert plan["themes"] == [
        "Các quy định về phòng, chống đuối nước trẻ em",
        "Kỹ năng bơi an toàn và sơ cứu ban đầu",
    ]
    assert plan["channels"] == ["zalo", "fanpage", "tiktok", "loudspeaker"]
    assert plan["reporting"] == ["monthly", "half_yearly"]
    first, second = plan["duties"][0], plan["duties"][-1]
    assert first["owner"] == "Trạm Y tế xã"
    assert first["deadline"] == date(2026, 9, 30)
    assert first["collaborators"] == ["Công an xã"]
    assert first["result"] == "100% giáo viên chủ nhiệm được tập huấn."
    assert second["owner"] == "Các trường Mầm non, Tiểu học trên địa bàn xã"
    Plan.model_validate(plan)


def test_cli_imports_and_the_draft_passes_check(tmp_path: Path) -> None:
    source = tmp_path / "hoa-an.txt"
    source.write_text(DOCUMENT, encoding="utf-8")
    (tmp_path / "content" / "plans").mkdir(parents=True)
    out = tmp_path / "content" / "plans" / "hoa-an.yaml"
    assert main(["plan", "import", str(source), "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["id"] == "hoa_an"
    assert main(["content", "check", str(tmp_path / "content")]) == 0
