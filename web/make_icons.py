"""Draw the app's PNG icons from the same geometry as web/app/icon.svg (no image library).

Run `python web/make_icons.py` after changing the mark; the PNGs are committed (a few KB
each) so neither a build step nor a download is needed. The shape: a speech bubble (a
circle of radius 14 joined to the lower-right square corner) with two white text lines,
on a 32-unit grid. The maskable icon keeps the mark inside the 80% safe zone on a full
bleed of white, as Android crops it to a circle or squircle.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent / "app"
PRIMARY = (0x0B, 0x5C, 0xAB)
WHITE = (0xFF, 0xFF, 0xFF)
SAMPLES = 3  # per axis: 9 samples a pixel for smooth edges


def _segment_distance(x: float, y: float, x0: float, y0: float, x1: float) -> float:
    """Distance from (x, y) to the horizontal segment (x0..x1, y0)."""
    nearest = min(max(x, x0), x1)
    return float(((x - nearest) ** 2 + (y - y0) ** 2) ** 0.5)


def _colour_at(x: float, y: float) -> tuple[int, int, int] | None:
    """The mark's colour at (x, y) on the 32-unit grid, or None outside it."""
    in_circle = (x - 16) ** 2 + (y - 16) ** 2 <= 14**2
    in_corner = 16 <= x <= 30 and 16 <= y <= 30
    if not (in_circle or in_corner):
        return None
    stroke = 1.25  # half of stroke-width 2.5, round caps
    if _segment_distance(x, y, 9, 13, 23) <= stroke or _segment_distance(x, y, 9, 19, 18) <= stroke:
        return WHITE
    return PRIMARY


def render(size: int, *, maskable: bool = False) -> bytes:
    """RGBA rows of the icon at `size` px; transparent outside the mark unless maskable."""
    scale = (32 / (size * 0.8)) if maskable else 32 / size
    offset = -(size * 0.1) * scale if maskable else 0.0
    rows = bytearray()
    for py in range(size):
        rows.append(0)  # PNG filter: none
        for px in range(size):
            r = g = b = a = 0
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    x = (px + (sx + 0.5) / SAMPLES) * scale + offset
                    y = (py + (sy + 0.5) / SAMPLES) * scale + offset
                    colour = _colour_at(x, y) or (WHITE if maskable else None)
                    if colour:
                        r, g, b, a = r + colour[0], g + colour[1], b + colour[2], a + 1
            n = SAMPLES * SAMPLES
            rows += bytes((r // a, g // a, b // a, 255 * a // n) if a else (0, 0, 0, 0))
    return bytes(rows)


def png(size: int, rows: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


ICONS = {
    "icon-180.png": (180, False),  # apple-touch-icon
    "icon-192.png": (192, False),
    "icon-512.png": (512, False),
    "icon-maskable-512.png": (512, True),
}


def main() -> None:
    for name, (size, maskable) in ICONS.items():
        (APP_DIR / name).write_bytes(png(size, render(size, maskable=maskable)))


if __name__ == "__main__":
    main()
