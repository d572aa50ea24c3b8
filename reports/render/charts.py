"""Charts as inline SVG for the HTML reports: no script, no external library, printable. A heat
map (rows × columns of shares, each cell painted as a threshold says, its value written in it)
and small bars (one small panel per row — a class — with a bar per column — a week — on one
shared scale, so panels compare at a glance)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

from reports.render.document import PAINT

_FONT = 'font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif"'
_EMPTY = "#F3F5F9"
_BAR = "#4A6FA5"


def _svg(width: float, height: float, body: list[str], label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label={quoteattr(label)}>'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


#: column labels longer than this are cut with «…» (the cell's tooltip has the whole name)
LABEL_MAX = 22


def _cut(label: str) -> str:
    return label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1].rstrip() + "…"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}"


def heatmap(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Mapping[tuple[str, str], float | None],
    paint: Callable[[float | None], str | None],
    *,
    cell: tuple[int, int] = (44, 22),
) -> str:
    """A table of shares (0..1) as coloured cells; a missing value is a blank grey cell."""
    cw, ch = cell
    longest = max((len(_cut(c)) for c in columns), default=4)
    # column labels rise at 55°: room above for their height, on the right for their run
    left = 12 + 7 * max((len(r) for r in rows), default=2)
    top = 18 + int(6.2 * longest * 0.82)
    width = left + cw * len(columns) + int(6.2 * longest * 0.57) + 10
    height = top + ch * len(rows) + 10
    body: list[str] = []
    for j, col in enumerate(columns):
        x = left + j * cw + cw / 2
        body.append(
            f"<g><title>{escape(col)}</title>"
            f'<text x="{x:.1f}" y="{top - 6}" {_FONT} font-size="11" '
            f'transform="rotate(-55 {x:.1f} {top - 6})">{escape(_cut(col))}</text></g>'
        )
    for i, row in enumerate(rows):
        y = top + i * ch
        body.append(
            f'<text x="{left - 6}" y="{y + ch / 2 + 4:.1f}" {_FONT} font-size="11" '
            f'text-anchor="end">{escape(row)}</text>'
        )
        for j, col in enumerate(columns):
            v = values.get((row, col))
            name = paint(v)
            fill = "#" + PAINT[name] if name else _EMPTY
            x = left + j * cw
            tip = f"{row}, {col}: " + ("нет отметок в этом классе" if v is None else f"{_pct(v)} %")
            body.append(
                f'<rect x="{x}" y="{y}" width="{cw - 1}" height="{ch - 1}" fill="{fill}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if v is not None:
                body.append(
                    f'<text x="{x + cw / 2:.1f}" y="{y + ch / 2 + 4:.1f}" {_FONT} '
                    f'font-size="10" text-anchor="middle">{_pct(v)}</text>'
                )
    return _svg(width, height, body, title)


def small_bars(
    title: str,
    label: str,
    bars: Sequence[tuple[str, int]],
    scale: int,
    *,
    size: tuple[int, int] = (200, 84),
) -> str:
    """One small panel: ``label`` above, a bar per ``(category, value)``, heights on ``scale``
    (the largest value of every panel), the total written beside the label."""
    width, height = size
    top, bottom = 18, 14
    plot = height - top - bottom
    n = max(1, len(bars))
    step = (width - 8) / n
    bw = max(2.0, step * 0.75)
    total = sum(v for _, v in bars)
    body = [
        f'<text x="4" y="12" {_FONT} font-size="11" font-weight="bold">{escape(label)}</text>',
        f'<text x="{width - 4}" y="12" {_FONT} font-size="10" text-anchor="end" '
        f'fill="#5b6475">всего {total}</text>',
        f'<line x1="4" y1="{top + plot}" x2="{width - 4}" y2="{top + plot}" stroke="#c9d1de"/>',
    ]
    for k, (category, v) in enumerate(bars):
        h = 0.0 if scale <= 0 else plot * v / scale
        x = 4 + k * step + (step - bw) / 2
        body.append(
            f'<rect x="{x:.1f}" y="{top + plot - h:.1f}" width="{bw:.1f}" height="{h:.1f}" '
            f'fill="{_BAR}"><title>{escape(f"{label}, {category}: {v}")}</title></rect>'
        )
    if bars:
        first, last = bars[0][0], bars[-1][0]
        body.append(
            f'<text x="4" y="{height - 2}" {_FONT} font-size="9" fill="#5b6475">'
            f"{escape(first)}</text>"
        )
        if len(bars) > 1:
            body.append(
                f'<text x="{width - 4}" y="{height - 2}" {_FONT} font-size="9" '
                f'fill="#5b6475" text-anchor="end">{escape(last)}</text>'
            )
    return _svg(width, height, body, f"{title}: {label}")
