#!/bin/bash
# Build (once) a Debian trixie chroot holding GIMP 3, for the real-GIMP integration test.
#
# usage: tests/gimp/setup.sh [ROOT]     (default ROOT: $INKHUE_GIMP_ROOT or /var/cache/inkhue-gimp-root)
#
# Debian 12 only ships GIMP 2.10; trixie has GIMP 3.0 with its Python 3 plug-in API. mmdebstrap
# builds a chroot without mounts in ~30-40 s (~700 MB). A ready chroot is reused as is: the
# build goes to ROOT.partial and is renamed into place only once gimp-console-3.0 is inside,
# so an interrupted build is never mistaken for a finished one. Needs root (chroot).
set -euo pipefail

ROOT=${1:-${INKHUE_GIMP_ROOT:-/var/cache/inkhue-gimp-root}}
MIRROR=${INKHUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}
GIMP_BIN=usr/bin/gimp-console-3.0

ts() { echo "[setup.sh +${SECONDS}s] $*" >&2; }

if [ -x "$ROOT/$GIMP_BIN" ]; then
  ts "reusing $ROOT"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "tests/gimp/setup.sh: building the GIMP chroot needs root (mmdebstrap + chroot)" >&2
  exit 2
fi

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9                              # two test runs at once: the second waits, then reuses
if [ -x "$ROOT/$GIMP_BIN" ]; then
  ts "reusing $ROOT (built meanwhile)"
  exit 0
fi

if ! command -v mmdebstrap >/dev/null; then
  ts "installing mmdebstrap"
  # other apt users (CI steps, parallel jobs) hold dpkg's lock for a while: wait for it
  apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q \
    --no-install-recommends mmdebstrap >/dev/null
fi

KEYRING_OPT=()
if ! ls /usr/share/keyrings/debian-archive-trixie-*.gpg >/dev/null 2>&1; then
  # hosts older than Debian 12.x (or Ubuntu) lack trixie's signing keys: take Debian's keyring
  ts "fetching Debian's archive keyring"
  K=$(mktemp -d)
  curl -sSfo "$K/k.deb" "$MIRROR/pool/main/d/debian-archive-keyring/debian-archive-keyring_2025.1_all.deb"
  dpkg-deb -x "$K/k.deb" "$K/x"
  KEYRING_OPT=(--keyring="$K/x/usr/share/keyrings/debian-archive-keyring.pgp")
fi

ts "mmdebstrap trixie + gimp into $ROOT.partial"
rm -rf "$ROOT.partial"
# gimp brings python3-gi and the Gimp/GimpUi typelibs; recommends would add ~1 GB of extras
mmdebstrap --quiet --variant=apt --include=gimp \
  --aptopt='APT::Install-Recommends "false"' "${KEYRING_OPT[@]}" \
  trixie "$ROOT.partial" "$MIRROR"
# apt lists and downloaded debs are not needed to run GIMP
rm -rf "$ROOT.partial/var/lib/apt/lists/"* "$ROOT.partial/var/cache/apt/"*.bin
test -x "$ROOT.partial/$GIMP_BIN"
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"
ts "ready: $ROOT ($(du -sh "$ROOT" | cut -f1))"
