#!/usr/bin/env python3
"""Writes small images in the formats Tuna reads besides JPEG/PNG/BMP/GIF/WebP, with Pillow, and the
pixels Pillow decodes from every file in the folder (these and any a test put there beforehand).

Used by ImageFormatsTest (Debian's python3-pil). For each image file NAME in --out it writes NAME.rgb,
the decoded pixels as 8-bit RGB rows, and a line in reference.tsv:

    NAME <tab> width <tab> height <tab> Pillow's mode

The decoded pixels follow Tuna's documented rules, applied to what Pillow decodes:
  * the first frame / page; for ICO the image Pillow picks (the largest);
  * a TIFF's orientation tag applied (Pillow itself does so when it loads a TIFF);
  * gray and bilevel replicated to three channels, palettes expanded;
  * alpha composited over white: round((v * a + 255 * (255 - a)) / 255);
  * 16-bit samples reduced to their high byte (Pillow itself clips 16-bit gray at 255 when it
    converts to RGB; Tuna keeps the high byte, as its PNG path always has).
CMYK files get no .rgb (Pillow's CMYK conversion ignores ink profiles; Tuna's does not).
"""
import argparse
import os
import struct
import sys

from PIL import Image, ImageOps

W, H = 37, 23  # odd sizes: row padding and strip boundaries are exercised


def pattern():
    """A deterministic RGB picture with gradients, edges and every channel varying."""
    im = Image.new("RGB", (W, H))
    px = im.load()
    for y in range(H):
        for x in range(W):
            r = (x * 255) // (W - 1)
            g = (y * 255) // (H - 1)
            b = ((x * 7 + y * 13) * 5) % 256
            if 10 <= x < 16 and 5 <= y < 12:
                r, g, b = 250, 20, 30  # a red block: orientation and edges show
            px[x, y] = (r, g, b)
    return im


def with_alpha(im):
    rgba = im.convert("RGBA")
    px = rgba.load()
    for y in range(H):
        for x in range(W):
            r, g, b, _ = px[x, y]
            px[x, y] = (r, g, b, (x * 255) // (W - 1) if y % 3 else 255 if x % 2 else 0)
    return rgba


def gray16():
    im = Image.new("I;16", (W, H))
    for y in range(H):
        for x in range(W):
            im.putpixel((x, y), (x * 1771 + y * 977) % 65536)
    return im


def packbits(row):
    """PackBits-encodes one row as literal runs (valid, if not compact)."""
    out = bytearray()
    for i in range(0, len(row), 128):
        chunk = row[i:i + 128]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def psd(im, rle, icc=None):
    """A minimal Photoshop file: header, no colour table or layers, an ICC profile resource when
    given, and the composite."""
    channels = {"RGB": 3, "L": 1}[im.mode]
    mode = {"RGB": 3, "L": 1}[im.mode]
    out = bytearray(b"8BPS" + struct.pack(">H6xHIIHH", 1, channels, im.height, im.width, 8, mode))
    resources = b""
    if icc:
        data = icc + (b"\0" if len(icc) % 2 else b"")
        resources = b"8BIM" + struct.pack(">H", 1039) + b"\0\0" + struct.pack(">I", len(icc)) + data
    out += struct.pack(">I", 0) + struct.pack(">I", len(resources)) + resources + struct.pack(">I", 0)
    planes = [b.tobytes() for b in im.split()]
    if rle:
        rows = [packbits(p[y * im.width:(y + 1) * im.width]) for p in planes for y in range(im.height)]
        out += struct.pack(">H", 1)
        out += b"".join(struct.pack(">H", len(r)) for r in rows)
        out += b"".join(rows)
    else:
        out += struct.pack(">H", 0) + b"".join(planes)
    return bytes(out)


def plain_pnm(kind, maxval, values, width, height):
    text = "P%d\n# written by make_format_samples.py\n%d %d\n" % (kind, width, height)
    if kind != 1:
        text += "%d\n" % maxval
    lines = [" ".join(str(v) for v in values[i:i + 12]) for i in range(0, len(values), 12)]
    return (text + "\n".join(lines) + "\n").encode("ascii")


def write_samples(out, icc):
    base = pattern()
    gray = base.convert("L")
    pal = base.convert("P", palette=Image.ADAPTIVE, colors=64)
    bw = gray.point(lambda v: 255 if v > 120 else 0).convert("1")
    rgba = with_alpha(base)

    def save(im, name, **kw):
        im.save(os.path.join(out, name), **kw)

    for c in ["raw", "tiff_lzw", "tiff_adobe_deflate", "packbits"]:
        save(base, "tiff-rgb8-%s.tif" % c, compression=c)
    save(base, "tiff-rgb8-jpeg.tif", compression="jpeg", quality=95)
    save(gray, "tiff-gray8-lzw.tif", compression="tiff_lzw")
    save(gray16(), "tiff-gray16-raw.tif", compression="raw")
    save(gray16(), "tiff-gray16-deflate.tif", compression="tiff_adobe_deflate")
    save(pal, "tiff-palette-lzw.tif", compression="tiff_lzw")
    save(bw, "tiff-bilevel-group4.tif", compression="group4")
    save(bw, "tiff-bilevel-raw.tif", compression="raw")
    save(rgba, "tiff-rgba-lzw.tif", compression="tiff_lzw")
    save(gray.convert("LA"), "tiff-gray-alpha.tif", compression="raw")
    save(base, "tiff-multipage.tif", compression="tiff_lzw", save_all=True,
         append_images=[ImageOps.invert(base), gray])
    save(base, "tiff-orientation6.tif", compression="raw", tiffinfo={274: 6})
    big = Image.new("I;16B", (W, H))
    big.frombytes(gray16().tobytes("raw", "I;16B"))
    save(big, "tiff-gray16-bigendian.tif", compression="raw")
    save(base.convert("CMYK"), "tiff-cmyk.tif", compression="raw")
    save(Image.new("CMYK", (16, 16), (0, 255, 255, 0)), "tiff-cmyk-red.tif", compression="tiff_lzw")

    save(base, "pnm-rgb.ppm")
    save(gray, "pnm-gray.pgm")
    save(bw, "pnm-bilevel.pbm")
    save(gray16().convert("I"), "pnm-gray16.pgm")
    with open(os.path.join(out, "pnm-plain-p3-maxval15.ppm"), "wb") as f:
        f.write(plain_pnm(3, 15, [v // 17 for v in base.tobytes()], W, H))
    with open(os.path.join(out, "pnm-plain-p2.pgm"), "wb") as f:
        f.write(plain_pnm(2, 255, list(gray.tobytes()), W, H))
    with open(os.path.join(out, "pnm-plain-p1.pbm"), "wb") as f:
        f.write(plain_pnm(1, 1, [0 if v else 1 for v in bw.convert("L").tobytes()], W, H))

    save(base, "tga-rgb.tga")
    save(base, "tga-rgb-rle.tga", rle=True)
    save(base, "tga-rgb-topdown.tga", orientation=1)
    save(rgba, "tga-rgba-rle.tga", rle=True)
    save(gray, "tga-gray.tga")
    save(pal, "tga-palette-rle.tga", rle=True)

    icon = rgba.crop((0, 0, 23, 23)).resize((48, 48))
    save(icon, "ico-png.ico", sizes=[(16, 16), (48, 48), (32, 32)])
    save(icon, "ico-bmp.ico", sizes=[(16, 16), (32, 32), (48, 48)], bitmap_format="bmp")
    opaque = base.crop((0, 0, 23, 23)).resize((32, 32))
    cur = bytearray()
    opaque.save(os.path.join(out, "tmp.ico"), sizes=[(16, 16), (32, 32)], bitmap_format="bmp")
    with open(os.path.join(out, "tmp.ico"), "rb") as f:
        cur = bytearray(f.read())
    os.remove(os.path.join(out, "tmp.ico"))
    cur[2] = 2  # an ICO with the type changed is a cursor (its planes/bit-count fields become the hot spot)
    with open(os.path.join(out, "cur-bmp.cur"), "wb") as f:
        f.write(bytes(cur))

    for name, im, rle in [("psd-rgb-raw.psd", base, False), ("psd-rgb-rle.psd", base, True),
                          ("psd-gray-rle.psd", gray, True)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(psd(im, rle))
    if icc:  # an RGB profile other than sRGB: Pillow ignores it, and so must Tuna by default
        save(base, "tiff-rgb8-icc.tif", compression="tiff_lzw", icc_profile=icc)
        with open(os.path.join(out, "psd-rgb-icc.psd"), "wb") as f:
            f.write(psd(base, True, icc))


def over_white(v, a):
    return (v * a + 255 * (255 - a) + 127) // 255


def reference_rgb(im):
    im.load()  # a file opens at its first frame/page, a PSD at its composite; a TIFF is turned upright
    mode = im.mode
    if mode == "CMYK":
        return None
    if mode.startswith("I"):
        values = list(im.getdata())
        data = bytearray()
        for v in values:
            data += bytes([max(0, min(65535, v)) >> 8] * 3)
        return bytes(data)
    if mode in ("RGBA", "LA", "PA", "RGBa") or (mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        data = bytearray()
        for r, g, b, a in rgba.getdata():
            data += bytes([over_white(r, a), over_white(g, a), over_white(b, a)])
        return bytes(data)
    return im.convert("RGB").tobytes()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-samples", action="store_true", help="only decode what is already there")
    parser.add_argument("--icc", help="an RGB ICC profile to embed in a TIFF and a PSD sample")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if not args.no_samples:
        icc = None
        if args.icc:
            with open(args.icc, "rb") as f:
                icc = f.read()
        write_samples(args.out, icc)
    lines = []
    for name in sorted(os.listdir(args.out)):
        path = os.path.join(args.out, name)
        if name.endswith(".rgb") or name == "reference.tsv" or not os.path.isfile(path):
            continue
        try:
            with Image.open(path) as im:
                original_mode = im.mode
                rgb = reference_rgb(im)
                w, h = im.size
        except Exception as e:  # a corpus holds files Pillow refuses too: they get no reference
            print("Pillow cannot decode %s: %s" % (name, e), file=sys.stderr)
            continue
        if rgb is not None:
            assert w * h * 3 == len(rgb), (name, w, h, len(rgb))
            with open(path + ".rgb", "wb") as f:
                f.write(rgb)
        lines.append("%s\t%d\t%d\t%s\n" % (name, w, h, original_mode))
    with open(os.path.join(args.out, "reference.tsv"), "w") as f:
        f.writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main())
