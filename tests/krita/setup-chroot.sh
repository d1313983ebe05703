#!/usr/bin/env bash
# Optional: a Debian chroot with a newer Krita, to run the real-Krita tests against it too (CI uses
# the host's Krita 5.1 from setup.sh):
#
#   bash tests/krita/setup-chroot.sh [5.2|6] [ROOT]        # needs root; does nothing when ROOT has Krita
#   INKHUE_KRITA_ROOT=ROOT pytest tests/krita               # default ROOT below
#
#   5.2 (default): Krita 5.2 on Qt 5 / PyQt5 from Debian trixie, in /var/cache/inkhue-krita52-root
#                  (~4 min, ~1.1 GB)
#   6:             Krita 6 on Qt 6 / PyQt6 from Debian experimental over sid, in
#                  /var/cache/inkhue-krita6-root (2-3 min, ~1.4 GB); Krita 6.0.4 links Python 3.14
#                  and only recommends python3-pyqt6, so that is named explicitly; qt6-svg-plugins
#                  draws its SVG icons
#
# A first argument that is not a series is taken as ROOT (the 5.2 chroot, as before).
set -euo pipefail

SERIES=5.2
case "${1:-}" in
5.2 | 6)
    SERIES=$1
    shift
    ;;
esac
MIRROR=${INKHUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
if [ "$SERIES" = 6 ]; then
    ROOT=${1:-/var/cache/inkhue-krita6-root}
else
    ROOT=${1:-${INKHUE_KRITA_ROOT:-/var/cache/inkhue-krita52-root}}
fi

if [ -x "$ROOT/usr/bin/krita" ]; then
    echo "reusing $ROOT ($(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}' krita 2>/dev/null || true))"
    exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "building the chroot needs root (mmdebstrap, chroot)" >&2; exit 2; }
if ! command -v mmdebstrap >/dev/null; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
        --no-install-recommends mmdebstrap
fi
rm -rf "$ROOT.partial"
if [ "$SERIES" = 6 ]; then
    # sid and experimental: only krita and krita-data come from experimental, the rest (Qt 6.11,
    # PyQt6, Python 3.14) from sid. A mirror snapshot may serve Release files past their
    # Valid-Until: accept them (the signatures are still checked).
    mmdebstrap --quiet --variant=apt --include=xvfb,xauth \
        --aptopt='APT::Install-Recommends "false"' --aptopt='Acquire::Check-Valid-Until "false"' \
        --customize-hook='chroot "$1" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq krita/experimental krita-data/experimental python3-pyqt6 qt6-svg-plugins >/dev/null' \
        sid "$ROOT.partial" "deb $MIRROR sid main" "deb $MIRROR experimental main"
else
    # trixie's PyQt5 carries its own sip module: no python3-sip package there
    mmdebstrap --quiet --variant=apt --include=krita,python3-pyqt5,xvfb,xauth \
        --aptopt='APT::Install-Recommends "false"' trixie "$ROOT.partial" "$MIRROR"
fi
rm -rf "$ROOT.partial/var/lib/apt/lists/"* "$ROOT.partial/var/cache/apt/"*.bin
test -x "$ROOT.partial/usr/bin/krita"
mv "$ROOT.partial" "$ROOT"
echo "ready: $ROOT ($(chroot "$ROOT" dpkg-query -W -f='${Package} ${Version}' krita))"
