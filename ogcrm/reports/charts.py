"""A report's result as a Vega-Lite chart specification, and that chart rendered to PNG
or SVG without a browser (vl-convert embeds the Vega runtime: nothing is fetched).

The specification carries its data inline, so a front end renders it as it is
(``vegaEmbed(el, spec)``) and the CLI hands the very same one to the renderer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ogcrm.reports.catalog import Shape
from ogcrm.reports.definitions import Mark

if TYPE_CHECKING:
    from ogcrm.reports.run import Result

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


def _axis(column: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"field": column.name, "type": column.shape.value, "title": column.label}
    if column.shape is Shape.TEMPORAL:
        out["timeUnit"] = "yearmonthdate" if column.name == "week" else "yearmonth"
    if column.order:
        out["sort"] = list(column.order)
    return out


def spec(result: Result, mark: Mark | None = None) -> dict[str, Any]:
    """The chart a report's result reads as: the first dimension along x (a line when it
    is a time), the first metric up y, a second dimension (or the other metrics) as
    colour; a pie (``arc``) when asked for."""
    dims = [c for c in result.columns if c.role == "dimension"]
    metrics = [c for c in result.columns if c.role == "metric"]
    values = [dict(zip([c.name for c in result.columns], row, strict=True)) for row in result.rows]
    if mark is None:
        mark = Mark.LINE if dims and dims[0].shape is Shape.TEMPORAL else Mark.BAR
    chart: dict[str, Any] = {
        "$schema": SCHEMA,
        "title": result.title,
        "data": {"values": values},
        "mark": {"type": mark.value, "tooltip": True},
        "width": 640,
        "height": 320,
    }
    y: dict[str, Any] = {
        "field": metrics[0].name,
        "type": "quantitative",
        "title": metrics[0].label,
    }
    if mark is Mark.ARC:
        chart["encoding"] = {"theta": y, **({"color": _axis(dims[0])} if dims else {})}
        chart.pop("width")
        return chart
    if len(metrics) > 1 and len(dims) <= 1:
        # several metrics side by side: one series per metric
        chart["transform"] = [{"fold": [m.name for m in metrics], "as": ["metric", "value"]}]
        y = {"field": "value", "type": "quantitative", "title": None}
        color: dict[str, Any] | None = {"field": "metric", "type": "nominal", "title": "Metric"}
    else:
        color = _axis(dims[1]) | {"type": "nominal"} if len(dims) > 1 else None
    x = (
        _axis(dims[0])
        if dims
        else {"datum": result.title or "total", "type": "nominal", "title": None}
    )
    encoding: dict[str, Any] = {"x": x, "y": y}
    if color is not None:
        encoding["color"] = color
        if mark is Mark.BAR and "transform" in chart:
            encoding["xOffset"] = {"field": "metric"}
    chart["encoding"] = encoding
    return chart


def render(chart: dict[str, Any], fmt: str) -> bytes:
    """``chart`` as PNG (bytes) or SVG (UTF-8 text)."""
    import vl_convert

    if fmt == "png":
        return bytes(vl_convert.vegalite_to_png(chart, scale=2))
    if fmt == "svg":
        return str(vl_convert.vegalite_to_svg(chart)).encode("utf-8")
    raise ValueError(fmt)
