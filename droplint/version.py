"""droplint's version and home: a leaf module (imports nothing), so that any module can read
them without importing the package's __init__ (and through it the whole driver)."""
__version__ = "0.1.0"
# The project's home (a placeholder until the repository is public): rule docs in SARIF link
# to rules/<module>.py under it.
PROJECT_URL = "https://github.com/droplint/droplint"
