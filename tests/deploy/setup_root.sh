#!/bin/bash
# Build (once) the fresh Debian root the container test runs deploy/Containerfile's steps in.
#
# usage: tests/deploy/setup_root.sh [ROOT]   (default ROOT: $INKHUE_DEPLOY_ROOT or
#                                             /var/cache/inkhue-deploy-root)
#
# Debian 12 (bookworm), what the python:3.12-slim-bookworm base is built on, with the Python the
# image's steps need (the slim image has its own Python in /usr/local; Debian's python3 and
# python3-venv stand in for it here). No mounts needed to build (~30 s, ~250 MB). A ready root is
# reused as is: it is built in ROOT.partial and renamed into place once complete. Needs root.
set -euo pipefail

ROOT=${1:-${INKHUE_DEPLOY_ROOT:-/var/cache/inkhue-deploy-root}}
MIRROR=${INKHUE_DEBIAN_MIRROR:-http://deb.debian.org/debian}

ts() { echo "[setup_root.sh +${SECONDS}s] $*" >&2; }

if [ -x "$ROOT/usr/bin/python3" ]; then
  ts "reusing $ROOT"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "tests/deploy/setup_root.sh: building the root needs root (mmdebstrap + chroot)" >&2
  exit 2
fi
command -v mmdebstrap >/dev/null || { echo "mmdebstrap is not installed" >&2; exit 2; }

mkdir -p "$(dirname "$ROOT")"
exec 9>"$ROOT.lock"
flock 9
if [ -x "$ROOT/usr/bin/python3" ]; then
  ts "reusing $ROOT (built meanwhile)"
  exit 0
fi
ts "mmdebstrap bookworm into $ROOT.partial"
rm -rf "$ROOT.partial"
mmdebstrap --quiet --variant=apt --include=python3,python3-venv,ca-certificates \
  --aptopt='APT::Install-Recommends "false"' bookworm "$ROOT.partial" "$MIRROR"
rm -rf "$ROOT.partial/var/lib/apt/lists/"* "$ROOT.partial/var/cache/apt/"*.bin
test -x "$ROOT.partial/usr/bin/python3"
rm -rf "$ROOT"
mv "$ROOT.partial" "$ROOT"
ts "ready: $ROOT ($(du -sh "$ROOT" | cut -f1))"
