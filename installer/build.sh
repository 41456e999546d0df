#!/usr/bin/env bash
# Builds the Linux one-folder program, a .tar.gz of it, a .desktop entry and an icon.
#
#   installer/build.sh [--variant cpu|cuda] [--model FILE] [--out DIR]
#
#   --variant cuda  (default here) torch as PyPI ships it for Linux: runs on NVIDIA GPUs and
#                   on the CPU; several GB, because it carries the CUDA libraries.
#   --variant cpu   torch from PyTorch's CPU-only wheel index (~5x smaller); needs that index
#                   to be reachable from the build machine.
#   --model FILE    ship FILE as the starter model instead of the bundled resources/models/ one
#                   (the app activates the starter on first start; the smoke test predicts with it).
#
# Step for step the same as installer/build.ps1.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
variant=cuda; model=""; out="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --variant) variant=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: installer/build.sh [--variant cpu|cuda] [--model FILE] [--out DIR]" >&2; exit 2 ;;
  esac
done
case "$variant" in cpu|cuda) ;; *) echo "--variant must be cpu or cuda" >&2; exit 2 ;; esac
start=$(date +%s)

# 1. A build environment of its own, so the bundle holds only what the app needs.
venv="$ROOT/build/venv-$variant"
[ -x "$venv/bin/python" ] || python3.11 -m venv "$venv"
if [ "$variant" = cpu ]; then
  "$venv/bin/pip" install -q torch==2.14.1 torchvision==0.29.1 --index-url https://download.pytorch.org/whl/cpu
fi
"$venv/bin/pip" install -q "$ROOT[installer]"

# 2. The starter model: the bundled one, or --model FILE (read by the spec).
if [ -n "$model" ]; then
  [ -f "$model" ] || { echo "error: --model $model: no such file" >&2; exit 2; }
  export MANDIBLE_STARTER_MODEL=$(cd "$(dirname "$model")" && pwd)/$(basename "$model")
else
  ls "$ROOT"/resources/models/*.msmodel >/dev/null 2>&1 || {
    echo "error: no starter model in resources/models/; restore it from git or give --model FILE" >&2; exit 2; }
fi

# 3. PyInstaller one-folder build.
"$venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$out" --workpath "$ROOT/build/pyinstaller-$variant" "$ROOT/installer/mandible_studio.spec"
app="$out/MandibleStudio"

# 4. Desktop entry and icon, installed per user by the bundled install script.
cp "$ROOT/resources/branding/mandible-studio.png" "$app/mandible-studio.png"
cp "$ROOT/installer/linux/mandible-studio.desktop" "$app/"
cp "$ROOT/installer/linux/install.sh" "$app/"
chmod +x "$app/install.sh"

# 5. Check the build the way a user would start it: from another folder, no venv on the path.
(cd /tmp && env -i HOME="$HOME" PATH=/usr/bin:/bin "$app/MandibleStudio" --smoke-test)

# 6. Archive.
tarball="$out/MandibleStudio-linux-x86_64-$variant.tar.gz"
tar -C "$out" -czf "$tarball" MandibleStudio
end=$(date +%s)
echo "built $app ($(du -sh "$app" | cut -f1)), $tarball ($(du -sh "$tarball" | cut -f1)) in $((end - start)) s"
