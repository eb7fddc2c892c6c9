"""Stand-in for google-auth on the GPU check (scripts/gpu_check/standins/README.md)."""
