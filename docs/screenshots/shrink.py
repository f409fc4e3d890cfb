"""Shrink a browser test's screenshot for the README: scaled, 128 colours, optimised PNG.

uv run --with pillow python docs/screenshots/shrink.py SRC.png DST.png [SCALE]
"""

import sys

from PIL import Image

src, dst = sys.argv[1], sys.argv[2]
scale = float(sys.argv[3]) if len(sys.argv) > 3 else 0.5
image = Image.open(src).convert("RGB")
image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(dst, optimize=True)
