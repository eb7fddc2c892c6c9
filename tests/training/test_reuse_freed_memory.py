import ctypes

import pytest
import torch

from sinet_allen.training.reuse_freed_memory import ReuseFreedMemory, _glibc


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


GLIBC = _glibc()
pytestmark = pytest.mark.skipif(GLIBC is None or not hasattr(GLIBC, "mallinfo2"),
                                reason="the callback only changes glibc's allocator (mallinfo2: glibc 2.33+)")


def bytes_mapped_for_a_large_tensor() -> int:
    """How much memory glibc maps on its own (outside the heap) for a 64 MB tensor."""
    GLIBC.mallinfo2.restype = MallInfo2
    before = GLIBC.mallinfo2().hblkhd
    tensor = torch.empty(16 * 2**20)
    mapped = GLIBC.mallinfo2().hblkhd - before
    del tensor
    return mapped


class CpuTrainer:
    cuda_device = torch.device("cpu")


def test_large_blocks_come_from_the_heap_during_cpu_training_only():
    assert bytes_mapped_for_a_large_tensor() >= 64 * 2**20  # glibc's default: a mapping of its own
    callback = ReuseFreedMemory(serialization_dir="")
    callback.on_start(CpuTrainer())
    try:
        assert callback.active
        assert bytes_mapped_for_a_large_tensor() == 0
        # ...and, once freed, it stays in the heap for the next step instead of being trimmed.
        assert GLIBC.mallinfo2().fordblks >= 64 * 2**20
    finally:
        callback.on_end(CpuTrainer())
    assert not callback.active
    assert bytes_mapped_for_a_large_tensor() >= 64 * 2**20


def test_nothing_changes_when_training_on_a_gpu():
    class GpuTrainer:
        cuda_device = torch.device("cuda", 0)

    callback = ReuseFreedMemory(serialization_dir="")
    callback.on_start(GpuTrainer())
    callback.on_end(GpuTrainer())
    assert not callback.active
    assert bytes_mapped_for_a_large_tensor() >= 64 * 2**20
