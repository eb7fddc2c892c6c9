"""Stand-in for boto3 on the GPU check (scripts/gpu_check/standins/README.md): no S3 there."""
