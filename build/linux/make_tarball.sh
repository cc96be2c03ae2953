#!/usr/bin/env bash
# Pack a built Linux bundle with its desktop integration files into a .tar.gz.
#   build/linux/make_tarball.sh build/out/dist/StyleStudio build/out/StyleStudio-0.1.0-linux-x86_64-cpu.tar.gz
# Users unpack it anywhere and run ./StyleStudio/StyleStudio, or ./StyleStudio/install.sh for a
# menu entry, an icon, the .stylepack file type and a `stylestudio` command (per user).
set -euo pipefail
BUNDLE="${1:?usage: make_tarball.sh path/to/StyleStudio out.tar.gz}"
ARCHIVE="${2:?usage: make_tarball.sh path/to/StyleStudio out.tar.gz}"
HERE="$(cd "$(dirname "$0")" && pwd)"

cp "$HERE/stylestudio.desktop" "$HERE/stylestudio-mime.xml" "$HERE/install.sh" "$BUNDLE/"
# The GUI's own 256 px icon, from the bundle itself.
cp "$BUNDLE/_internal/resources/icons/stylestudio-256.png" "$BUNDLE/stylestudio.png"
mkdir -p "$(dirname "$ARCHIVE")"
tar -C "$(dirname "$BUNDLE")" -cf - "$(basename "$BUNDLE")" | nice -n "${NICE:-0}" gzip -6 > "$ARCHIVE.tmp"
mv "$ARCHIVE.tmp" "$ARCHIVE"
echo "tarball: $ARCHIVE ($(( $(stat -c %s "$ARCHIVE") / 1048576 )) MiB)"
