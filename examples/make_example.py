"""Draws the bundled example (line art + hint layer) so it can be regenerated and checked."""

from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).parent
W, H, INK = 512, 384, (0, 0, 0, 255)


def main() -> None:
    line = Image.new("RGBA", (W, H), (255, 255, 255, 255))
    d = ImageDraw.Draw(line)
    d.line([(0, 300), (W, 300)], fill=INK, width=3)  # horizon: sky above, grass below
    d.rectangle([120, 190, 260, 300], outline=INK, width=3)  # house
    d.polygon([(110, 190), (190, 120), (270, 190)], outline=INK, width=3)  # roof
    d.rectangle([170, 240, 205, 300], outline=INK, width=3)  # door
    d.rectangle([135, 210, 160, 235], outline=INK, width=3)  # window
    d.ellipse([380, 40, 450, 110], outline=INK, width=3)  # sun
    d.ellipse([340, 170, 420, 250], outline=INK, width=3)  # tree crown
    d.rectangle([372, 250, 388, 300], outline=INK, width=3)  # trunk
    line.save(HERE / "lineart.png")

    hints = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    h = ImageDraw.Draw(hints)
    for xy, rgb in [
        ((40, 60), (110, 170, 235)),  # sky
        ((60, 340), (90, 170, 70)),  # grass
        ((230, 270), (235, 215, 160)),  # wall
        ((190, 170), (190, 60, 50)),  # roof
        ((187, 275), (120, 75, 40)),  # door
        ((147, 222), (250, 240, 140)),  # window
        ((415, 75), (250, 200, 40)),  # sun
        ((380, 210), (50, 130, 60)),  # crown
        ((380, 280), (110, 80, 50)),  # trunk
    ]:
        x, y = xy
        h.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(*rgb, 255))
    hints.save(HERE / "hints.png")


if __name__ == "__main__":
    main()
