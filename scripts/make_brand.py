"""Draw the integration's brand images (custom_components/deepgram/brand/).

An original mark, not Deepgram's logo: a rounded square with five
waveform bars. The logo adds the name in DejaVu Sans Bold. Run once after
changing the design:

    .venv/bin/python scripts/make_brand.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND = Path(__file__).resolve().parent.parent / "custom_components/deepgram/brand"
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
BACKGROUND = (19, 78, 94, 255)  # deep teal
BARS = (255, 255, 255, 255)
ACCENT = (94, 234, 212, 255)  # mint, the middle bar
HEIGHTS = (0.30, 0.55, 0.80, 0.55, 0.30)  # of the square's inner height
SCALE = 4  # drawn large, then reduced: smooth edges


def mark(size: int) -> Image.Image:
    """The square mark, `size` pixels wide, transparent outside the square."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=BACKGROUND)
    bar = big // 11
    gap = big // 22
    total = len(HEIGHTS) * bar + (len(HEIGHTS) - 1) * gap
    left = (big - total) // 2
    for index, height in enumerate(HEIGHTS):
        tall = int(big * 0.72 * height)
        x = left + index * (bar + gap)
        top = (big - tall) // 2
        colour = ACCENT if index == len(HEIGHTS) // 2 else BARS
        draw.rounded_rectangle(
            (x, top, x + bar, top + tall), radius=bar // 2, fill=colour
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int, text_colour: tuple[int, int, int, int]) -> Image.Image:
    """The mark and the name side by side, `height` pixels high."""
    font = ImageFont.truetype(str(FONT), int(height * 0.42))
    left, top, right, bottom = font.getbbox("Deepgram")
    width = height + height // 4 + int(right - left) + height // 8
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(mark(height))
    draw = ImageDraw.Draw(image)
    x = height + height // 4 - int(left)
    y = (height - int(bottom - top)) // 2 - int(top)
    draw.text((x, y), "Deepgram", font=font, fill=text_colour)
    return image


def main() -> None:
    """Write every image."""
    BRAND.mkdir(parents=True, exist_ok=True)
    mark(256).save(BRAND / "icon.png", optimize=True)
    mark(512).save(BRAND / "icon@2x.png", optimize=True)
    dark_text = (33, 33, 33, 255)
    light_text = (240, 240, 240, 255)
    for prefix, colour in (("", dark_text), ("dark_", light_text)):
        double = logo(256, colour)
        double.save(BRAND / f"{prefix}logo@2x.png", optimize=True)
        single = double.resize((double.width // 2, 128), Image.Resampling.LANCZOS)
        single.save(BRAND / f"{prefix}logo.png", optimize=True)


if __name__ == "__main__":
    main()
