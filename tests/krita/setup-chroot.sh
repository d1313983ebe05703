#!/usr/bin/env bash
# Optional: a Debian trixie chroot with Krita 5.2, to run the real-Krita tests against the newer
# Krita too (CI uses the host's Krita 5.1 from setup.sh):
#
#   bash tests/krita/setup-chroot.sh [ROOT]                       # ~4 min, ~1.1 GB, needs root
#   INKHUE_KRITA_ROOT=ROOT pytest tests/krita                     # default ROOT below
set -euo pipefail

ROOT=${1:-${INKHUE_KRITA_ROOT:-/var/cache/inkhue-krita52-root}}
MIRROR=${INKHUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [ -x "$ROOT/usr/bin/krita" ]; then
    echo "reusing $ROOT"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "building the chroot needs root (mmdebstrap, chroot)" >&2; exit 2; }
if ! command -v mmdebstrap >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends mmdebstrap
fi
rm -rf "$ROOT.partial"
# trixie's PyQt5 carries its own sip module: no python3-sip package there
mmdebstrap --quiet --variant=apt --include=krita,python3-pyqt5,xvfb,xauth \
    --aptopt='APT::Install-Recommends "false"' trixie "$ROOT.partial" "$MIRROR"
rm -rf "$ROOT.partial/var/lib/apt/lists/"* "$ROOT.partial/var/cache/apt/"*.bin
test -x "$ROOT.partial/usr/bin/krita"
mv "$ROOT.partial" "$ROOT"
echo "ready: $ROOT ($(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}' krita))"
