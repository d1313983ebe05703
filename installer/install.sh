#!/usr/bin/env bash
# Install Inkhue for this user (Linux, macOS): finds a Python >= 3.10 and runs installer/install.py,
# which does the work with the standard library only. All options are install.py's:
#   bash installer/install.sh [--remote URL --token T] [--with-training] [--dev] [--check] [--uninstall] ...
# PYTHON=/path/to/python3 picks the interpreter the engine's environment is built from.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

ok_version() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; }

py=""
if [ -n "${PYTHON:-}" ]; then
  if ! ok_version "$PYTHON"; then
    echo "inkhue-install: PYTHON=$PYTHON is not a Python 3.10 or newer" >&2
    exit 1
  fi
  py=$PYTHON
else
  for cand in python3 python3.13 python3.12 python3.11 python3.10 python; do
    if command -v "$cand" >/dev/null 2>&1 && ok_version "$cand"; then
      py=$(command -v "$cand")
      break
    fi
  done
fi
if [ -z "$py" ]; then
  echo "inkhue-install: Inkhue needs Python 3.10 or newer, and none was found on PATH." >&2
  if command -v apt-get >/dev/null 2>&1; then
    echo "  Debian/Ubuntu: sudo apt-get install python3 python3-venv" >&2
  elif [ "$(uname -s)" = Darwin ]; then
    echo "  macOS: install Python from https://www.python.org/downloads/ or 'brew install python'" >&2
  fi
  echo "  or run: PYTHON=/path/to/python3 bash $0 $*" >&2
  exit 1
fi
# PYTHONPATH from the caller's shell must not mix other code into the installer
exec env -u PYTHONPATH -u PYTHONHOME "$py" "$here/install.py" "$@"
