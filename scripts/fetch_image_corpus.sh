#!/usr/bin/env bash
# Lays out a folder of odd image files from Go's image libraries' own test data, as Debian packages
# them (golang-golang-x-image-dev: TIFF in every compression, 16-bit, paletted, tiled, CCITT; BMP;
# WebP. golang-N-src: PngSuite, interlaced/truncated/corrupt PNGs, JPEG subsamplings, progressive,
# CMYK, GIFs), plus the fonts and text files that sit beside them. Nothing of it is committed:
# ImageCorpusTest and `tuna describe` read it from the folder given (TUNA_IMAGE_CORPUS).
#
#   scripts/fetch_image_corpus.sh <folder>      (needs apt-get download, i.e. Debian's package lists)
set -euo pipefail
out="${1:?usage: fetch_image_corpus.sh <folder>}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
go_src="$(apt-cache depends golang-src 2>/dev/null | sed -n 's/.*Depends: \(golang-[0-9.]*-src\).*/\1/p' | head -1)"
(cd "$work" && apt-get download -q golang-golang-x-image-dev ${go_src:+"$go_src"} >/dev/null)
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$work/x"
done
x_image="$work/x/usr/share/gocode/src/golang.org/x/image"
cp -r "$x_image/testdata" "$out/x-image"
cp -r "$x_image/ccitt/testdata" "$out/x-image-ccitt"
cp -r "$x_image/font/testdata" "$out/x-image-font"
for go in "$work"/x/usr/share/go-*/src/image; do
  cp -r "$go/testdata" "$out/go-image"
  cp -r "$go/png/testdata" "$out/go-png"
done
echo "$(find "$out" -type f | wc -l) files in $out"
