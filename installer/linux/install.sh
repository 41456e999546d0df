#!/usr/bin/env bash
# Double-click or run once after unpacking: adds Mandible Studio to the applications menu.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dest="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
mkdir -p "$dest"
sed "s|@APPDIR@|$here|g" "$here/mandible-studio.desktop" > "$dest/mandible-studio.desktop"
chmod +x "$dest/mandible-studio.desktop"
echo "Mandible Studio is now in your applications menu."
