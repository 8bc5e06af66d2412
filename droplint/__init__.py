"""droplint: what every dropout around your recurrent layers drops, and what to write instead."""
__version__ = "0.1.0"
# The project's home (a placeholder until the repository is public): rule docs in SARIF link
# to rules/<module>.py under it.
PROJECT_URL = "https://github.com/droplint/droplint"

from .api import analyze, analyze_source  # noqa: E402

__all__ = ["analyze", "analyze_source", "__version__"]
