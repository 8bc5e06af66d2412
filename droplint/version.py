"""droplint's version and home: a leaf module (imports nothing), so that any module can read
them without importing the package's __init__ (and through it the whole driver)."""
__version__ = "0.1.0"
# The project's public home, once there is one (there is none yet: droplint is installed from a
# clone or a git URL). While None, SARIF gives no helpUri/informationUri (each rule's full doc
# is in help.text/help.markdown) and editors link a diagnostic to the rule's installed module.
# Set it to the repository URL when it is public: rule docs then link to rules/<module>.py.
PROJECT_URL: str | None = None
