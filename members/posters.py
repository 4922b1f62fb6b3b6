"""QR codes as inline SVG, and the printable A5 poster of a union station (扫码入会)."""

import unicodedata

import segno
from django.utils.html import escape
from django.utils.translation import gettext as _

BRAND = "#067a3b"


def qr_svg(data: str, *, title: str = "", css_class: str = "qr") -> str:
    """An inline <svg> QR code of `data` that scales to its container (no fixed size)."""
    # A fixed mask pattern: choosing the best of eight costs ~10 ms per code and any mask scans.
    qr = segno.make(data, error="m", micro=False, mask=0)
    svg = qr.svg_inline(
        scale=1, border=2, omitsize=True, title=title or None, svgclass=css_class, dark="#000", light="#fff"
    )
    return svg.replace("<svg ", '<svg role="img" ', 1)


def _width(text: str) -> float:
    """Approximate advance of `text` in ems: CJK and full-width characters are 1, others about half."""
    return sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.55 for ch in text)


def _wrap(text: str, *, max_em: float, max_lines: int) -> list[str]:
    lines, line = [], ""
    for ch in text:
        if _width(line + ch) > max_em:
            lines.append(line)
            line = ""
        line += ch
    if line:
        lines.append(line)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][:-1] + "…"
    return lines


def _text(x: float, y: float, text: str, *, size: float, weight: int = 400, fill: str = "#1a1a1a") -> str:
    return (
        f'<text x="{x}" y="{y:.1f}" font-size="{size:.2f}" font-weight="{weight}" fill="{fill}" '
        f'text-anchor="middle">{escape(text)}</text>'
    )


def station_poster_svg(*, station, join_url: str) -> str:
    """An A5 (148 × 210 mm) poster: the station's name and address, "扫码入会" and the QR code of
    its join link. Units are millimetres; it prints at true size from any browser."""
    width, height, mid = 148, 210, 74
    name_size = min(9.0, 128 / max(_width(station.name), 1))
    title = _("Scan to join the union")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}mm" height="{height}mm" '
        f'viewBox="0 0 {width} {height}" font-family="PingFang SC, Microsoft YaHei, Noto Sans CJK SC, '
        f'Source Han Sans SC, sans-serif">',
        f"<title>{escape(station.name)}</title>",
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<rect width="{width}" height="42" fill="{BRAND}"/>',
        _text(mid, 15, _("Union station"), size=6, fill="#fff"),
        _text(mid, 31, station.name, size=name_size, weight=700, fill="#fff"),
        _text(mid, 60, title, size=min(13.0, 136 / max(_width(title), 1)), weight=700, fill=BRAND),
        f'<rect x="27" y="68" width="94" height="94" rx="3" fill="#fff" stroke="{BRAND}" stroke-width="0.8"/>',
    ]
    qr = qr_svg(join_url, title=title)
    parts.append(qr.replace("<svg ", '<svg x="30" y="71" width="88" height="88" ', 1))
    parts.append(_text(mid, 171, _("Open WeChat, scan the code and apply online."), size=4.2, fill="#444"))
    y = 182.0
    for line in _wrap(_("Address: %(address)s") % {"address": station.address}, max_em=30, max_lines=2):
        parts.append(_text(mid, y, line, size=4.2, fill="#1a1a1a"))
        y += 5.6
    if station.hours:
        parts.append(_text(mid, y, _("Opening hours: %(hours)s") % {"hours": station.hours}, size=4.2, fill="#1a1a1a"))
    parts.append(f'<rect y="{height - 10}" width="{width}" height="10" fill="{BRAND}"/>')
    parts.append(_text(mid, height - 3.6, station.union.name, size=4, fill="#fff"))
    parts.append("</svg>")
    return "\n".join(parts)
