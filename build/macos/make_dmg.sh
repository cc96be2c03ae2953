#!/usr/bin/env bash
# Pack StyleStudio.app into a compressed disk image with an /Applications shortcut.
#   build/macos/make_dmg.sh build/out/dist/StyleStudio.app build/out/StyleStudio-0.1.0-macos-arm64.dmg
set -euo pipefail
APP="${1:?usage: make_dmg.sh path/to/StyleStudio.app out.dmg}"
DMG="${2:?usage: make_dmg.sh path/to/StyleStudio.app out.dmg}"

STAGING="$(mktemp -d "${RUNNER_TEMP:-/tmp}/stylestudio-dmg.XXXXXX")"
trap 'rm -rf "$STAGING"' EXIT
# ditto keeps symlinks, extended attributes and signatures intact (cp -R may not).
ditto "$APP" "$STAGING/$(basename "$APP")"
ln -s /Applications "$STAGING/Applications"
mkdir -p "$(dirname "$DMG")"
rm -f "$DMG"
hdiutil create -volname "StyleStudio" -srcfolder "$STAGING" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$DMG"
hdiutil verify "$DMG"
echo "dmg: $DMG ($(du -h "$DMG" | cut -f1))"
