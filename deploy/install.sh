#!/bin/sh
# The container image's install step (deploy/Containerfile, deploy/Containerfile.cuda), as root:
# a non-root user, a virtual environment with Inkhue and its bundled model, checksums verified.
#
# usage: sh deploy/install.sh [EXTRAS]     EXTRAS: service (default) or service,gpu
#   SRC (default /src): the source tree copied into the image; PYTHON (default python3).
set -eu

EXTRAS=${1:-service}
SRC=${SRC:-/src}
PYTHON=${PYTHON:-python3}
VENV=/opt/inkhue
UID_GID=10001

# the server's user: fixed numeric ids, so Kubernetes' runAsNonRoot can check them
groupadd --system --gid "$UID_GID" inkhue
useradd --system --uid "$UID_GID" --gid "$UID_GID" --home-dir /home/inkhue --create-home \
  --shell /usr/sbin/nologin inkhue

"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --disable-pip-version-check --quiet "$SRC[$EXTRAS]"
case ",$EXTRAS," in
  *,gpu,*)
    # onnxruntime (a core dependency) and onnxruntime-gpu install the same module: keep the GPU one
    ORT_GPU=$("$VENV/bin/python" -c "import importlib.metadata as m; print(m.version('onnxruntime-gpu'))")
    "$VENV/bin/pip" uninstall --quiet --yes onnxruntime onnxruntime-gpu
    "$VENV/bin/pip" install --disable-pip-version-check --quiet --no-deps "onnxruntime-gpu==$ORT_GPU"
    ;;
esac
# the bundled model's checksums, and the import of everything 'inkhue serve' loads
"$VENV/bin/inkhue" models
"$VENV/bin/python" -c "import engine.server, engine.pipeline"
rm -rf "$SRC/build" "$SRC"/*.egg-info
