"""Small HTML tables for Jupyter (``_repr_html_``): plain, escaped, no styling dependencies."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

__all__ = ["html_table"]


def html_table(rows: Iterable[Sequence[object]], *, header: Sequence[str] | None = None,
               caption: str | None = None) -> str:
    """An HTML table of ``rows`` (each cell shown with ``str``, escaped).

    Examples
    --------
    >>> html_table([("state", "B2")], caption="m")
    '<table><caption>m</caption><tr><td>state</td><td>B2</td></tr></table>'
    """
    parts = ["<table>"]
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    if header:
        parts.append("<tr>" + "".join(f"<th>{html.escape(str(h))}</th>" for h in header) + "</tr>")
    for row in rows:
        parts.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>")
    parts.append("</table>")
    return "".join(parts)
