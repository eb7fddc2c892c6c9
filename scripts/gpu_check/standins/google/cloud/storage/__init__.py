"""Stand-in for google-cloud-storage on the GPU check (scripts/gpu_check/standins/README.md): no
Cloud Storage there."""


def _refuse(*args, **kwargs):
    raise RuntimeError("google-cloud-storage is not carried to the GPU check (a stand-in): use local files")


class Client:
    __init__ = _refuse
    create_anonymous_client = staticmethod(_refuse)
