"""The README's table of BiaPy keys is the one the code generates."""

from pathlib import Path

from i2i_nb.config.key_table import BEGIN, END, markdown, rows

README = Path(__file__).parents[2] / "README.md"


def test_readme_key_table_is_current():
    text = README.read_text()
    block = text[text.index(BEGIN):text.index(END) + len(END)]
    assert block == markdown(), "regenerate with: python -m i2i_nb.config.key_table"


def test_every_biapy_key_has_a_status_and_a_reason_when_it_does_nothing():
    for key, status, note in rows():
        assert status in ("honoured", "converted", "no effect", "not built")
        assert status == "honoured" or note, key
