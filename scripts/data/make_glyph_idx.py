#!/usr/bin/python3
"""Make "glyph digits", a second MNIST-format (IDX) data set, from the fonts
installed here: the digits 0-9 drawn in every DejaVu face (fonts-dejavu,
22 faces), each image with its own random size, rotation, shear, shift,
stroke width, blur, noise and an occluding stroke, 28x28 grey levels.

It exists to check that the harness's small-model recipe (teacher and
students) does well on data it was not tuned on (`dataset: idx`); see
REPRODUCE.md, "Another data set". Deterministic for a given --seed and
set of fonts: the output's SHA-256 sums are printed, and the fonts used
are listed in the README written beside the files.

  /usr/bin/python3 scripts/data/make_glyph_idx.py --out results/data/glyphs

Writes train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (60,000 and 10,000
items by default; the test images use the same faces, other draws).
Needs python3-pil (Debian).
"""
import argparse
import glob
import gzip
import hashlib
import os
import random
import struct
import sys

from PIL import Image, ImageDraw, ImageFilter, ImageFont

SIZE = 28
FONT_GLOB = "/usr/share/fonts/truetype/dejavu/*.ttf"


def draw(rng, font_path, digit):
    """One 28x28 image (bytes, 0 = black background) of `digit`."""
    big = 64
    font = ImageFont.truetype(font_path, rng.randint(36, 52))
    img = Image.new("L", (big, big), 0)
    d = ImageDraw.Draw(img)
    text = str(digit)
    box = d.textbbox((0, 0), text, font=font)
    w, h = box[2] - box[0], box[3] - box[1]
    d.text(((big - w) / 2 - box[0], (big - h) / 2 - box[1]), text, fill=255,
           font=font)
    # Stroke width: thicker or thinner.
    k = rng.choice([None, None, "max", "min"])
    if k == "max":
        img = img.filter(ImageFilter.MaxFilter(3))
    elif k == "min":
        img = img.filter(ImageFilter.MinFilter(3))
    # Rotation, shear and shift in one affine map about the centre.
    img = img.rotate(rng.uniform(-20, 20), resample=Image.BILINEAR,
                     center=(big / 2, big / 2))
    sh = rng.uniform(-0.3, 0.3)
    dx, dy = rng.uniform(-6, 6), rng.uniform(-6, 6)
    img = img.transform((big, big), Image.AFFINE,
                        (1, sh, -sh * big / 2 + dx, 0, 1, dy),
                        resample=Image.BILINEAR)
    # An occluding stroke in a third of the images.
    if rng.random() < 1 / 3:
        d = ImageDraw.Draw(img)
        pts = [(rng.uniform(0, big), rng.uniform(0, big)) for _ in range(2)]
        d.line(pts, fill=rng.randint(120, 255), width=rng.randint(2, 5))
    img = img.resize((SIZE, SIZE), Image.BILINEAR)
    if rng.random() < 0.5:
        img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))
    px = bytearray(img.tobytes())
    sigma = rng.uniform(0, 30)
    for i in range(len(px)):
        v = px[i] + rng.gauss(0, sigma)
        px[i] = 0 if v < 0 else 255 if v > 255 else int(v)
    return bytes(px)


def write_idx(path, magic, dims, payload):
    with gzip.GzipFile(path, "wb", mtime=0) as f:
        f.write(struct.pack(">I", magic))
        for n in dims:
            f.write(struct.pack(">I", n))
        f.write(payload)


def make(rng, fonts, n):
    images, labels = bytearray(), bytearray()
    for i in range(n):
        digit = i % 10
        images += draw(rng, rng.choice(fonts), digit)
        labels.append(digit)
    # Shuffle the items together.
    order = list(range(n))
    rng.shuffle(order)
    img = b"".join(bytes(images[j * SIZE * SIZE:(j + 1) * SIZE * SIZE])
                   for j in order)
    lab = bytes(labels[j] for j in order)
    return img, lab


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--train", type=int, default=60000)
    ap.add_argument("--test", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    fonts = sorted(glob.glob(FONT_GLOB))
    if not fonts:
        sys.exit(f"make_glyph_idx: no fonts at {FONT_GLOB} "
                 "(apt-get install fonts-dejavu-core fonts-dejavu-extra)")
    if args.train < 10 or args.test < 10:
        sys.exit("make_glyph_idx: --train and --test must be at least 10")
    os.makedirs(args.out, exist_ok=True)
    sums = []
    for prefix, n, seed in (("train", args.train, args.seed),
                            ("t10k", args.test, args.seed + 1000)):
        rng = random.Random(seed)
        img, lab = make(rng, fonts, n)
        ip = os.path.join(args.out, f"{prefix}-images-idx3-ubyte.gz")
        lp = os.path.join(args.out, f"{prefix}-labels-idx1-ubyte.gz")
        write_idx(ip, 0x803, (n, SIZE, SIZE), img)
        write_idx(lp, 0x801, (n,), lab)
        for p in (ip, lp):
            with open(p, "rb") as f:
                sums.append((hashlib.sha256(f.read()).hexdigest(), p))
        print(f"make_glyph_idx: {prefix}: {n} items", flush=True)
    with open(os.path.join(args.out, "README"), "w") as f:
        f.write("glyph digits: scripts/data/make_glyph_idx.py "
                f"--train {args.train} --test {args.test} --seed "
                f"{args.seed}\nfonts:\n")
        for p in fonts:
            f.write(f"  {os.path.basename(p)}\n")
        for s, p in sums:
            f.write(f"{s}  {os.path.basename(p)}\n")
    for s, p in sums:
        print(f"{s}  {p}")


if __name__ == "__main__":
    main()
