#!/bin/bash
# Build (once) a Debian trixie chroot holding Krita 5.2, for the Colorize Mask baseline (bench/apps.py).
#
# usage: bench/krita_chroot.sh [ROOT]    (default ROOT: $INKHUE_KRITA_ROOT or /var/cache/inkhue-krita-root)
#
# Debian 12's Krita 5.1 has no ColorizeMask in its Python API (it came with 5.2); trixie ships 5.2.
# Same pattern as tests/gimp/setup.sh: built into ROOT.partial, renamed once krita is inside. Needs root.
set -euo pipefail

ROOT=${1:-${INKHUE_KRITA_ROOT:-/var/cache/inkhue-krita-root}}
MIRROR=${INKHUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -x "$ROOT/usr/bin/krita" ]; then
  echo "reusing $ROOT" >&2
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "bench/krita_chroot.sh: building the Krita chroot needs root (mmdebstrap + chroot)" >&2
  exit 2
fi
command -v mmdebstrap >/dev/null || {
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends mmdebstrap >/dev/null
}
mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
[ -x "$ROOT/usr/bin/krita" ] && exit 0
rm -rf "$ROOT.partial"
# krita + its Python plug-in support (python3-pyqt5) + a virtual X server
mmdebstrap --quiet --variant=apt --include=krita,python3-pyqt5,xvfb,xauth \
  --aptopt='APT::Install-Recommends "false"' trixie "$ROOT.partial" "$MIRROR"
rm -rf "$ROOT.partial/var/lib/apt/lists/"* "$ROOT.partial/var/cache/apt/"*.bin
test -x "$ROOT.partial/usr/bin/krita"
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"
echo "ready: $ROOT ($(du -sh "$ROOT" | cut -f1))" >&2
