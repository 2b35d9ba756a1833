#!/usr/bin/env bash
# Add Signoff to the desktop's application menu for the current user, pointing at the bundle this script
# sits in (dist/signoff/ or wherever that folder was copied):
#   ./install-desktop-entry.sh               install the menu entry and icon under ~/.local/share
#   ./install-desktop-entry.sh --write-only  only re-point this folder's own signoff.desktop at it
# Run it again after moving the folder. To remove: delete the two files it names.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ -x "$here/signoff" ] || { echo "install-desktop-entry: no signoff binary in $here" >&2; exit 1; }

# signoff.desktop in this folder (a copy of packaging/signoff.desktop), with Exec and Icon set.
entry() {
  local exec icon
  exec=$(printf '%s' "\"$here/signoff\" app" | sed 's/[&|\\]/\\&/g')
  icon=$(printf '%s' "$1" | sed 's/[&|\\]/\\&/g')
  sed -e "s|^Exec=.*|Exec=$exec|" -e "s|^Icon=.*|Icon=$icon|" "$here/signoff.desktop"
}

updated=$(entry "$here/signoff.png")
printf '%s\n' "$updated" >"$here/signoff.desktop"
[ "${1:-}" = "--write-only" ] && exit 0

data=${XDG_DATA_HOME:-$HOME/.local/share}
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps"
cp "$here/signoff.png" "$data/icons/hicolor/256x256/apps/signoff.png"
entry signoff >"$data/applications/signoff.desktop"
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$data/applications" || true; fi
echo "installed $data/applications/signoff.desktop and $data/icons/hicolor/256x256/apps/signoff.png"
