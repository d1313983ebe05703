#!/usr/bin/env bash
# Install what the real-Krita integration tests need (Debian/Ubuntu, as root or with sudo):
# Krita with its Python plug-in support, PyQt5/sip for Krita's embedded Python, and a virtual
# X server. Does nothing when everything is already there. Called by .ci/run.
set -euo pipefail

PKGS=(krita python3-pyqt5 python3-sip xvfb xauth)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "krita test dependencies present: ${PKGS[*]}"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# other apt users (CI steps, the GIMP test's setup) may hold dpkg's lock for a while: wait for it
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
dpkg-query -W -f='${Package} ${Version}\n' krita
