"""The training stream of the `resampling` loader over the fixture data, as plain lists: per epoch,
per batch, the sentences' sources, span candidates and relation pairs (the sampled negatives among
them). Recorded from the loader before data-loader workers drew fresh negatives, to prove the
stream with `num_workers=0` unchanged."""
from pathlib import Path
from typing import Any, Dict, List

from allennlp.data import Vocabulary
from allennlp.data.samplers import BucketBatchSampler

from sinet_allen.data_loaders.resampling import ResamplingDataLoader
from sinet_allen.dataset_readers.joint_ie import JointIEReader

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def training_loader(num_workers: int) -> ResamplingDataLoader:
    reader = JointIEReader(str(FIXTURES / "tiny_bert"), types_file=str(FIXTURES / "data/spert/types.json"),
                           symmetric_relations=["Compare", "Conjunction"], symmetric_reverse="negative",
                           training_instances=True, neg_entity_count=10, neg_relation_count=5, seed=13)
    return ResamplingDataLoader(reader, str(FIXTURES / "data/spert/train.json"), seed=13, num_workers=num_workers,
                                batch_sampler=BucketBatchSampler(batch_size=4, sorting_keys=["tokens"]))


def negative_stream(loader: ResamplingDataLoader, epochs: int) -> List[List[Dict[str, Any]]]:
    """As `allennlp train` uses the loader: a vocabulary from its instances, its length, then epochs."""
    loader.index_with(Vocabulary.from_instances(loader.iter_instances()))
    len(loader)
    return [[{"sources": [m["source"] for m in batch["metadata"]],
              "entity_spans": batch["entity_spans"].tolist(),
              "relation_pairs": batch["relation_pairs"].tolist()} for batch in loader]
            for _ in range(epochs)]
