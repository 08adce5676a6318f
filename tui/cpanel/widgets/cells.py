"""How view values look in a table cell: severity colours, ages, sparklines."""

from __future__ import annotations

from collections.abc import Sequence

from cpanel_platform.views.common import Severity
from rich.text import Text

# Row styles by severity, K9s-like: healthy rows plain, warnings yellow, errors red,
# finished things dimmed.
ROW_STYLE = {
    Severity.NONE: "dim",
    Severity.OK: "",
    Severity.WARN: "yellow",
    Severity.ERROR: "bold red",
}
TEXT_STYLE = {Severity.NONE: "dim", Severity.OK: "green", Severity.WARN: "yellow",
              Severity.ERROR: "bold red"}

BARS = "▁▂▃▄▅▆▇█"


def sparkline(
    values: Sequence[float | None], lo: float = 0.0, hi: float = 1.0, width: int = 0
) -> str:
    """Unicode bars for values in [lo, hi]; a missing point is a space. With `width`, points
    are bucketed to fit, each bar the bucket's maximum (a spike must not vanish)."""
    if width and len(values) > width:
        step = len(values) / width
        buckets = [values[int(i * step):int((i + 1) * step)] for i in range(width)]
        values = [max((v for v in b if v is not None), default=None) for b in buckets]
    span = (hi - lo) or 1.0
    out = []
    for value in values:
        if value is None:
            out.append(" ")
            continue
        share = min(1.0, max(0.0, (value - lo) / span))
        out.append(BARS[min(len(BARS) - 1, int(share * len(BARS)))])
    return "".join(out)


def percent(ratio: float | None, digits: int = 0) -> str:
    return "-" if ratio is None else f"{ratio * 100:.{digits}f}%"


def coloured(text: str, severity: Severity) -> Text:
    return Text(text, style=TEXT_STYLE[severity])


def number(value: float | None, fmt: str = "{:.1f}") -> str:
    return "-" if value is None else fmt.format(value)
