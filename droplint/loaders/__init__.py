"""Loaders turn an input (Python source, a notebook, a built model) into a Graph."""

SOURCE_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIXES = (".ipynb",)
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class SourceError(Exception):
    """The text cannot be parsed: message and 1-based position (DL900)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column
