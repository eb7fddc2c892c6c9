class Doc:
    """Stand-in: only the name, for annotations read at import time."""


class Token:
    """Stand-in: only the name, for annotations read at import time."""


class Span:
    """Stand-in: only the name, for annotations read at import time."""
