"""Textual SVG screenshots to PNG with cairosvg, in DejaVu Sans Mono.

Textual's SVGs ask for the Fira Code web font, which cairo cannot fetch; its fallback is a
proportional face, and the columns stop lining up. DejaVu Sans Mono (Debian's
fonts-dejavu-core) stands in for it, and three adjustments keep the grid exact:

- the font is sized so that its advance is Rich's cell width (0.61 em);
- every character gets its own x (cairo rounds advances to whole pixels, so a long run drawn
  from one x would end short of the next);
- the terminal is squeezed horizontally so that cells are a whole number of pixels wide
  (12.2 → 12): glyph edges fall on pixel boundaries, and box rules and sparkline blocks join
  without seams.

    python tools/svg2png.py IN.svg [OUT.png]
"""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path

import cairosvg

FONT = "DejaVu Sans Mono"
CELL_EM = 0.61  # Rich's cell width, in ems of the SVG's font size
DEJAVU_ADVANCE_EM = 1233 / 2048

_FONT_SIZE = re.compile(r"(\.terminal-matrix\s*\{[^}]*?font-size:\s*)([\d.]+)px")
# One run of cells: <text class=… x=… y=… textLength=… …>content</text>
_TEXT = re.compile(r'<text ([^>]*?)x="([\d.]+)"([^>]*?)textLength="([\d.]+)"([^>]*)>([^<]*)</text>')
_TERMINAL = re.compile(r'<g transform="translate\(([\d.]+), ([\d.]+)\)" clip-path')
_VIEWBOX = re.compile(r'(<svg [^>]*viewBox="0 0 )([\d.]+)')
_CHROME = re.compile(r'(<rect fill="#292929"[^>]*? width=")([\d.]+)')
_TITLE = re.compile(r'(<text class="terminal-title"[^>]*? x=")([\d.]+)')


def monospace(svg: str) -> str:
    """The SVG drawn in DejaVu Sans Mono on a whole-pixel grid."""
    svg = re.sub(r"\bterminal-\d+-", "terminal-", svg)  # Rich's per-export unique id
    found = _FONT_SIZE.search(svg)
    if found is None:
        return svg
    size = float(found.group(2))
    cell = size * CELL_EM
    squeeze = round(cell) / cell
    svg = re.sub(r"@font-face\s*\{[^}]*\}", "", svg)
    svg = _FONT_SIZE.sub(lambda m: f"{m.group(1)}{cell / DEJAVU_ADVANCE_EM:.3f}px", svg, 1)
    svg = re.sub(r"font-family:\s*Fira Code,\s*monospace", f'font-family: "{FONT}", monospace',
                 svg)
    svg = _TEXT.sub(_per_cell, svg)

    terminal = _TERMINAL.search(svg)
    viewbox = _VIEWBOX.search(svg)
    if terminal is None or viewbox is None:
        return svg
    x, y = float(terminal.group(1)), float(terminal.group(2))
    width = float(viewbox.group(2))
    narrower = (width - 2 * x) * (1 - squeeze)
    svg = _TERMINAL.sub(f'<g transform="translate({x:g}, {y:g}) scale({squeeze:.6f} 1)" '
                        "clip-path", svg, 1)
    for pattern, delta in ((_VIEWBOX, narrower), (_CHROME, narrower), (_TITLE, narrower / 2)):
        svg = pattern.sub(lambda m, d=delta: f"{m.group(1)}{float(m.group(2)) - d:g}", svg, 1)
    return svg


def _per_cell(match: re.Match[str]) -> str:
    before, x, middle, length, after, content = match.groups()
    chars = html.unescape(content)
    if len(chars) < 2:
        return match.group(0)
    cell = float(length) / len(chars)
    xs = " ".join(f"{float(x) + i * cell:.2f}" for i in range(len(chars)))
    return f'<text {before}x="{xs}"{middle}{after}>{content}</text>'


def svg_to_png(svg: str, out: Path) -> None:
    cairosvg.svg2png(bytestring=monospace(svg).encode(), write_to=str(out))


def main(argv: list[str]) -> None:
    source = Path(argv[0])
    out = Path(argv[1]) if len(argv) > 1 else source.with_suffix(".png")
    svg_to_png(source.read_text(), out)


if __name__ == "__main__":
    main(sys.argv[1:])
