"""droplint: what every dropout around your recurrent layers drops, and what to write instead."""
from .version import PROJECT_URL, __version__  # noqa: F401



def _rules_of_a_source_checkout() -> None:
    """`python -m droplint` in the root of a clone installed with `pip install .`: `droplint`
    is then this folder, whose rules are in ../rules (installed, they ship as droplint.rules).
    Let droplint.rules be found there too."""
    import os
    from importlib.util import find_spec

    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    if os.path.isfile(os.path.join(root, "rules", "__init__.py")) \
            and not os.path.isdir(os.path.join(here, "rules")) \
            and find_spec("droplint.rules") is None:
        __path__.append(root)


_rules_of_a_source_checkout()

from .api import analyze, analyze_source  # noqa: E402



def load_ipython_extension(ipython) -> None:
    """`%load_ext droplint` (IPython/Jupyter): see droplint/ipython.py. Imports nothing until
    IPython calls it."""
    from .ipython import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython) -> None:
    from .ipython import unload_ipython_extension as unload

    unload(ipython)


__all__ = ["analyze", "analyze_source", "__version__"]
