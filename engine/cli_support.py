"""What every Inkhue command line shares: logging to stderr, and errors turned into exit codes.

``inkhue`` (engine/cli.py) and ``inkhue-train`` (training/cli.py) both end in :func:`run_command`,
so a failure prints one ``PROG: ERROR: message`` line an artist can act on, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Mapping

#: exception class (or tuple of classes) -> exit code, or a function of the exception giving one
ExitCodes = Mapping[type[BaseException] | tuple[type[BaseException], ...], int | Callable[[Exception], int]]

INTERRUPTED = 130  # the shell's code for a program stopped with Ctrl+C (128 + SIGINT)


def run_command(prog: str, args: argparse.Namespace, exit_codes: ExitCodes) -> int:
    """Set up logging (``-v``: debug) and run ``args.func(args)``; returns the exit code.

    An exception matching a key of ``exit_codes`` (tried in order) is logged as one error line and
    gives that exit code; any other propagates, with its traceback, because it is a bug.
    """
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format=f"{prog}: %(levelname)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as e:
        for types, code in exit_codes.items():
            if isinstance(e, types):
                logging.getLogger(prog).error("%s", e)
                return code(e) if callable(code) else code
        raise
