"""`from droplint.keras import DroplintCallback` (as the README shows): the callback lives in
droplint/callback.py."""
from .callback import DroplintCallback, DroplintError  # noqa: F401
