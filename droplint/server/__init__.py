"""droplint's language server (`droplint server`): see droplint/server/app.py. Needs pygls
(`pip install 'pygls>=2'`, or `pip install '.[server]'` in a clone); importing this package does not import it."""
from __future__ import annotations

MISSING = ("`droplint server` needs pygls, which is not installed here: "
           "pip install 'pygls>=2' in this environment")


def main() -> int:
    """Run the server over stdio; 2 with a one-line message when pygls is missing."""
    from importlib.util import find_spec

    if find_spec("pygls") is None or find_spec("lsprotocol") is None:
        import sys

        print(f"droplint: error: {MISSING}", file=sys.stderr)
        return 2
    from .app import start

    start()
    return 0
