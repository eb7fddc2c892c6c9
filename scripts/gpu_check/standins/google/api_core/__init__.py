"""Stand-in for google-api-core on the GPU check (scripts/gpu_check/standins/README.md)."""
