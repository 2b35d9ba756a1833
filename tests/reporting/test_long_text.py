"""A description of about 8 KB no longer stops ``signoff report`` with reportlab's LayoutError: long texts
wrap and continue on the next page, all of them (issue 18). Read back with poppler's ``pdftotext``."""

from __future__ import annotations

import re
import subprocess

import pytest

from signoff.services.models import add_model_version
from signoff.services.report import export_report
from signoff.storage import open_database

WORDS = " ".join(f"w{i:04d}" for i in range(1400))  # 8,399 characters, every word different


@pytest.mark.parametrize(
    "description", [WORDS, "x" * 8192 + " END-OF-DESCRIPTION"], ids=["words", "one-word"]
)
def test_an_8_kb_description_is_exported_whole_across_pages(tmp_path, description):
    url = f"sqlite:///{tmp_path / 'long.db'}"
    out = tmp_path / "long.pdf"
    with open_database(url) as db:
        add_model_version(db, name="long", version="1", description=description, actor="alice")
        exported = export_report(db, name="long", version="1", out=out, actor="alice")
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(out), "-"], capture_output=True, text=True, check=True
    ).stdout
    if description == WORDS:  # every word, in order, though wrapped and continued over pages
        positions = [text.find(word) for word in WORDS.split()]
        assert -1 not in positions and positions == sorted(positions)
    else:  # one unbreakable word: split across lines, still all there
        runs = re.findall(r"x{2,}", text.split("END-OF-DESCRIPTION")[0])
        assert sum(len(run) for run in runs) == 8192
    assert exported.pages >= 3
