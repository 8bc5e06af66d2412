"""Placeholder, replaced below."""
def analyze(*a, **k): raise NotImplementedError
def analyze_source(*a, **k): raise NotImplementedError
