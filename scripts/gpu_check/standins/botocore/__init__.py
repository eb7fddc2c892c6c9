"""Stand-in for botocore on the GPU check (scripts/gpu_check/standins/README.md): no S3 there."""

UNSIGNED = object()


class StandInError(RuntimeError):
    pass
