"""`loa invite`: how an operator brings in a ward's first official."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.services.invites import digest


def test_loa_invite_prints_a_code_that_is_stored_only_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "loa.db"
    monkeypatch.setenv("LOA_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.delenv("LOA_TELEGRAM_TOKEN", raising=False)

    assert main(["invite", "--role", "official", "--unit", "demo-phuong-hoa-binh"]) == 0
    out = capsys.readouterr().out
    code = re.search(r"^code: +([2-9A-Z-]{19})$", out, re.M)
    assert code is not None, out
    assert "role:    official of demo-phuong-hoa-binh, 1 use(s)" in out
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT code_hash, role, max_uses FROM invites").fetchall()
    assert rows == [(digest(code[1]), "official", 1)]

    assert main(["invite", "--role", "teacher", "--unit", "khong-co"]) == 1
    assert "no active unit 'khong-co'" in capsys.readouterr().err
    assert main(["invite", "--role", "teacher", "--unit", "demo-th-kim-dong", "--days", "0"]) == 1
    assert "days must be 1..90" in capsys.readouterr().err
