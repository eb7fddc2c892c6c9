"""Stand-in for spaCy on the GPU check (scripts/gpu_check/standins/README.md): raw text cannot be
tokenised there; the check gives tokenised input."""


class StandInError(RuntimeError):
    pass


def _refuse(*args, **kwargs):
    raise StandInError("spaCy is not carried to the GPU check (a stand-in takes its place): give tokens, not raw text")


blank = load = _refuse
