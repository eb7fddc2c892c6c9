class Blob:
    """Stand-in: only the name, for annotations read at import time."""
