"""The `resampling` loader's negatives: fresh every epoch with data-loader workers, and with
`num_workers=0` the very stream the loader gave before workers were numbered (every recorded
run stays a valid baseline)."""
import json

from conftest import FIXTURES
from negative_stream import negative_stream, training_loader


def test_without_workers_the_stream_is_the_recorded_one():
    recorded = json.loads((FIXTURES / "negatives_num_workers_0.json").read_text())
    stream = negative_stream(training_loader(num_workers=0), epochs=3)
    assert stream == recorded
    assert stream[0] != stream[1] != stream[2]  # fresh negatives every epoch


def test_a_worker_draws_fresh_negatives_every_epoch():
    epochs = negative_stream(training_loader(num_workers=1), epochs=3)
    sources = [sorted(source for batch in epoch for source in batch["sources"]) for epoch in epochs]
    assert sources[0] == sources[1] == sources[2]  # the same sentences ...
    negatives = [per_sentence(epoch) for epoch in epochs]
    assert negatives[0] != negatives[1] and negatives[1] != negatives[2] and negatives[0] != negatives[2]


def per_sentence(epoch):
    """Sentence source -> its span candidates and relation pairs, without the batch's padding."""
    def unpadded(rows):
        return [row for row in rows if row != [-1, -1]]

    return {source: (unpadded(spans), unpadded(pairs)) for batch in epoch
            for source, spans, pairs in zip(batch["sources"], batch["entity_spans"], batch["relation_pairs"])}
