"""HTML of the reports: Jinja2 templates shipped in ``reports/templates`` (autoescaped), written
to the file as they render, so a long report streams. Charts are inline SVG
(:mod:`reports.render.charts`); print CSS makes the printed page the paper copy."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from reports import text
from reports.render.document import PAINT


@functools.cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["day"] = text.day
    env.filters["num"] = lambda n: f"{n:,}".replace(",", "\u202f")
    env.filters["pct"] = lambda x: f"{x:.0%}".replace("%", "\u00a0%")
    env.filters["css_string"] = css_string
    env.globals["PAINT"] = PAINT
    return env


def css_string(value: str) -> Markup:
    """``value`` as a quoted CSS string (for ``content:`` in a ``<style>``): quotes, backslashes
    and line breaks escaped, ``<`` too, so no text closes the style element."""
    out = []
    for ch in str(value):
        if ch in '"\\<>&' or ord(ch) < 0x20:
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')


def css() -> str:
    return (Path(__file__).parents[1] / "templates" / "report.css").read_text("utf-8")


def render_html(template: str, out: Path, **context: Any) -> None:
    tmpl = environment().get_template(template)
    with out.open("w", encoding="utf-8") as fh:
        for chunk in tmpl.generate(css=css(), **context):
            fh.write(chunk)


def render_string(template: str, **context: Any) -> str:
    return environment().get_template(template).render(css=css(), **context)
