"""A data loader that reads its file again every epoch, so negative samples are drawn afresh."""
import math
import random
from typing import Iterator, Optional

import numpy
import torch

from allennlp.data import DataLoader, DatasetReader, Instance
from allennlp.data.data_loaders import MultiProcessDataLoader
from allennlp.data.data_loaders.multiprocess_data_loader import DatasetReaderInput


@DataLoader.register("resampling")
class ResamplingDataLoader(MultiProcessDataLoader):
    """`MultiProcessDataLoader` in lazy mode (`max_instances_in_memory`), which re-reads the data
    each epoch, but with a known number of batches per epoch: AllenNLP's lazy mode has none, and
    the learning-rate schedulers and progress bars need it. The count takes one extra pass.

    With `seed`, every epoch starts from random states (python, numpy, torch) that depend only on
    the seed and the epoch. `allennlp train --recover` re-reads the finished epochs without training
    (dropout) or validating (the bucket sampler draws from `random`) on them, so without this a
    resumed run would drift away from an uninterrupted one.

    Every pass over the file (an epoch, the count above, a vocabulary) is numbered, and a reader
    with a `pass_number` (the `joint_ie` reader) is given the number before the pass starts, so
    that data-loader workers (`num_workers > 0`), which read from copies of the reader, draw fresh
    negatives every epoch as the main process does.

    Registered as a `DataLoader` with name "resampling".

    # Parameters

    reader : `DatasetReader`
        Given by `allennlp train`: the config's dataset reader, which draws the negative samples.
    data_path : `DatasetReaderInput`
        Given by `allennlp train`: the data file to read every epoch.
    max_instances_in_memory : `int`, optional (default = `1_000_000`)
        Instances read ahead at a time; any value keeps the loader lazy, so the file is read again
        every epoch. Larger than the data set, it sorts the whole epoch into buckets at once.
    seed : `int`, optional (default = `None`)
        Seeds python, numpy and torch at the start of every epoch from this seed and the epoch's
        number; `None` leaves the random states alone. The configs pass `SINET_SEED`.
    **kwargs
        Everything else `MultiProcessDataLoader` takes (`batch_sampler`, `batch_size`, `shuffle`,
        `batches_per_epoch`, `num_workers`, ...).
    """

    def __init__(
        self,
        reader: DatasetReader,
        data_path: DatasetReaderInput,
        *,
        max_instances_in_memory: int = 1_000_000,
        seed: Optional[int] = None,
        **kwargs,
    ) -> None:
        super().__init__(reader, data_path, max_instances_in_memory=max_instances_in_memory, **kwargs)
        self._num_batches = None
        self.seed = seed
        self._epochs_started = 0
        self._passes_started = 0

    def __iter__(self) -> Iterator:
        if self.seed is not None:
            epoch_seed = (self.seed * 1_000_003 + self._epochs_started) % 2**32
            random.seed(epoch_seed)
            numpy.random.seed(epoch_seed)
            torch.manual_seed(epoch_seed)
        self._epochs_started += 1
        if self.num_workers > 0:  # the workers read the file: iter_instances is not called
            self._start_pass()
        return super().__iter__()

    def iter_instances(self) -> Iterator[Instance]:
        self._start_pass()
        yield from super().iter_instances()

    def _start_pass(self) -> None:
        """Numbers the pass over the file about to start, in the reader that draws its negatives
        (see `JointIEReader.pass_number`): the workers started for it copy the reader as it is
        now. In the main process the reader counts the same passes itself."""
        if hasattr(self.reader, "pass_number"):
            self.reader.pass_number = self._passes_started
        self._passes_started += 1

    def __len__(self) -> int:
        if self.batches_per_epoch is not None:
            return self.batches_per_epoch
        if self._num_batches is None:
            instances = list(self.iter_instances())
            if self.batch_sampler is not None:
                self._num_batches = self.batch_sampler.get_num_batches(instances)
            else:
                rounding = math.floor if self.drop_last else math.ceil
                self._num_batches = rounding(len(instances) / self.batch_size)
        return self._num_batches
