"""droplint: what every dropout around your recurrent layers drops, and what to write instead."""
__version__ = "0.1.0"

from .api import analyze, analyze_source  # noqa: E402

__all__ = ["analyze", "analyze_source", "__version__"]
