"""Small HTML tables (no pandas) for the notebooks."""

from __future__ import annotations

import html
from collections.abc import Sequence

_STYLE = "border-collapse:collapse;font-size:12px"
_CELL = "border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top"


def html_table(header: Sequence[str], rows: Sequence[Sequence[object]],
               bold_last: bool = False) -> str:
    """An HTML table of escaped text; multi-line cells keep their line breaks."""

    def cell(tag: str, value: object, bold: bool) -> str:
        text = html.escape(str(value)).replace("\n", "<br>")
        return f'<{tag} style="{_CELL}">{f"<b>{text}</b>" if bold else text}</{tag}>'

    head = "".join(cell("th", name, False) for name in header)
    body = "".join(
        "<tr>" + "".join(cell("td", value, bold_last and i == len(rows) - 1) for value in row)
        + "</tr>" for i, row in enumerate(rows))
    return f'<table style="{_STYLE}"><tr>{head}</tr>{body}</table>'
