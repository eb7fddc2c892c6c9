from botocore.config import Config  # noqa: F401
