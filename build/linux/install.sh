#!/usr/bin/env bash
# Per-user install of the unpacked StyleStudio folder: menu entry, icon, .stylepack type, and a
# `stylestudio` command in ~/.local/bin. Run from inside the unpacked folder: ./install.sh
# ./install.sh --uninstall removes those again (the folder itself and your styles are kept).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
BIN="$HOME/.local/bin"

if [ "${1:-}" = "--uninstall" ]; then
  rm -f "$BIN/stylestudio" "$DATA/applications/stylestudio.desktop" \
        "$DATA/icons/hicolor/256x256/apps/stylestudio.png" "$DATA/mime/packages/stylestudio.xml"
else
  mkdir -p "$BIN" "$DATA/applications" "$DATA/icons/hicolor/256x256/apps" "$DATA/mime/packages"
  ln -sf "$HERE/StyleStudio" "$BIN/stylestudio"
  sed "s|@EXEC@|\"$HERE/StyleStudio\"|" "$HERE/stylestudio.desktop" \
    > "$DATA/applications/stylestudio.desktop"
  cp "$HERE/stylestudio.png" "$DATA/icons/hicolor/256x256/apps/stylestudio.png"
  cp "$HERE/stylestudio-mime.xml" "$DATA/mime/packages/stylestudio.xml"
fi
command -v update-mime-database >/dev/null && update-mime-database "$DATA/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
echo "done"
