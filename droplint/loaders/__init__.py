"""Loaders turn an input into a Graph and nothing else: source.load (Python text, a notebook's
program included), model.build_graph (a built Keras model). notebook.py is the notebook format
(cells <-> one program text) and model_file.py reads and loads model files; which kind a path
holds is decided once, in droplint/document.py, from the suffixes below."""

SOURCE_SUFFIXES = (".py", ".pyi")
NOTEBOOK_SUFFIXES = (".ipynb",)
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


class SourceError(Exception):
    """The text cannot be parsed: message and 1-based position (DL900)."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column
