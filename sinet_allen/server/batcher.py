"""Concurrent requests of `allennlp sinet-serve` coalesced into shared forward passes.

Requests wait in one bounded queue on the event loop. One worker task takes the oldest waiting
request and the later ones that ask for the same outputs (their `key`: attention maps or not, the
decoding options) while they fit the batch (`Batching` in limits.py), waiting at most `batch_wait_ms`
from the oldest one's arrival for more to come. The batch's inputs are predicted by one call of
`run(inputs, key)` in the one model thread, and each request gets its own results back. The
model never runs two batches at once, and the event loop goes on accepting (and refusing)
requests meanwhile.

A batch whose call fails is predicted again one request at a time, so a request that makes the
model fail fails alone (an input the predictor refuses is already its own error record). When the
server stops, the requests already waiting are still predicted before the worker ends.
"""
import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Hashable, List, Optional, Tuple

from sinet_allen.server.limits import Batching

logger = logging.getLogger(__name__)

Run = Callable[[List[Any], Hashable], List[Any]]


class Busy(Exception):
    """The queue is full or the server is stopping: the request is not taken (the message says which)."""


class ModelFailure(Exception):
    """The model failed on this request alone (the log has the exception)."""


@dataclass
class _Waiting:
    inputs: List[Any]
    key: Hashable
    wordpieces: int
    arrived: float
    answer: asyncio.Future


class Batcher:
    """Predicts waiting requests in batches; see the module docstring.

    # Parameters

    run : `Callable[[List[Any], Hashable], List[Any]]`
        Predicts a list of inputs with the outputs named by a key, one result per input, in order.
        It is called in the one model thread, never twice at once.
    batching : `Batching`
        The batch's bounds, the longest wait and the queue's length.
    """

    def __init__(self, run: Run, batching: Batching) -> None:
        self.run = run
        self.batching = batching
        self.waiting: List[_Waiting] = []
        self.batches_run = self.requests_run = self.largest_batch = 0  # for the log and the tests
        self._arrival: Optional[asyncio.Event] = None
        self._worker: Optional[asyncio.Task] = None
        self._model_thread: Optional[ThreadPoolExecutor] = None
        self._stopping = False

    def start(self) -> None:
        """Starts the worker on the running event loop."""
        self._arrival = asyncio.Event()
        self._model_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sinet-model")
        self._worker = asyncio.get_running_loop().create_task(self._serve())

    async def stop(self) -> None:
        """Refuses new requests, predicts the waiting ones, then ends the worker and its thread."""
        self._stopping = True
        self._arrival.set()
        await self._worker
        self._model_thread.shutdown()
        logger.info("the model's queue is drained: %d requests in %d batches, the largest of %d",
                    self.requests_run, self.batches_run, self.largest_batch)

    async def predict(self, inputs: List[Any], key: Hashable, wordpieces: int) -> List[Any]:
        """The results of `inputs`, once a batch with them has run; raises `Busy` when the
        request is not taken, `ModelFailure` when the model failed on it."""
        if self._stopping:
            raise Busy("the server is shutting down")
        if len(self.waiting) >= self.batching.max_queue:
            raise Busy(f"the server is busy: {len(self.waiting)} requests are already waiting for the model "
                       f"(the limit, sinet-serve --max-queue); try again shortly")
        loop = asyncio.get_running_loop()
        waiting = _Waiting(inputs, key, wordpieces, loop.time(), loop.create_future())
        self.waiting.append(waiting)
        self._arrival.set()
        return await waiting.answer

    async def _serve(self) -> None:
        while True:
            while not self.waiting:
                if self._stopping:
                    return
                self._arrival.clear()
                await self._arrival.wait()
            batch = await self._gather()
            self.batches_run, self.requests_run = self.batches_run + 1, self.requests_run + len(batch)
            self.largest_batch = max(self.largest_batch, len(batch))
            await self._run(batch)

    async def _gather(self) -> List[_Waiting]:
        """Waits until the oldest request's batch is full, or its wait is over; takes the batch."""
        loop = asyncio.get_running_loop()
        deadline = self.waiting[0].arrived + self.batching.batch_wait_ms / 1000
        while True:
            _, complete = self._batch()
            remaining = deadline - loop.time()
            if complete or self._stopping or remaining <= 0:
                break
            self._arrival.clear()
            try:
                await asyncio.wait_for(self._arrival.wait(), remaining)
            except asyncio.TimeoutError:
                break
        batch, _ = self._batch()
        taken = {id(waiting) for waiting in batch}
        self.waiting = [waiting for waiting in self.waiting if id(waiting) not in taken]
        return batch

    def _batch(self) -> Tuple[List[_Waiting], bool]:
        """The oldest request and the later ones with its key that fit beside it, in arrival
        order; and whether the batch can take no more (full, or the next one does not fit)."""
        first, bounds = self.waiting[0], self.batching
        batch, inputs, wordpieces = [first], len(first.inputs), first.wordpieces
        for waiting in self.waiting[1:]:
            if waiting.key != first.key:
                continue
            too_many = inputs + len(waiting.inputs) > bounds.batch_size
            if too_many or wordpieces + waiting.wordpieces > bounds.batch_wordpieces:
                return batch, True
            batch.append(waiting)
            inputs, wordpieces = inputs + len(waiting.inputs), wordpieces + waiting.wordpieces
        return batch, inputs >= bounds.batch_size or wordpieces >= bounds.batch_wordpieces

    async def _run(self, batch: List[_Waiting]) -> None:
        inputs = [item for waiting in batch for item in waiting.inputs]
        try:
            results = await asyncio.get_running_loop().run_in_executor(
                self._model_thread, self.run, inputs, batch[0].key)
        except Exception:  # noqa: BLE001  one request's failure must not stop the server
            if len(batch) > 1:  # find the request that fails: each alone
                for waiting in batch:
                    await self._run([waiting])
                return
            logger.exception("the model failed on a request")
            _answer(batch[0], ModelFailure())
            return
        start = 0
        for waiting in batch:
            _answer(waiting, results[start : start + len(waiting.inputs)])
            start += len(waiting.inputs)


def _answer(waiting: _Waiting, outcome: Any) -> None:
    if waiting.answer.done():  # the request was cancelled meanwhile
        return
    if isinstance(outcome, Exception):
        waiting.answer.set_exception(outcome)
    else:
        waiting.answer.set_result(outcome)
