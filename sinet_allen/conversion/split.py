"""A train / dev / test split by document, so that no document has sentences in two splits."""
import math
import random
from typing import Dict, List, Sequence

from sinet_allen.schema import Sentence

SPLIT_NAMES = ("train", "dev", "test")


def check_fractions(fractions: Sequence[float]) -> None:
    if not 2 <= len(fractions) <= len(SPLIT_NAMES):
        raise ValueError(f"--split takes 2 or 3 fractions (train dev [test]), got {len(fractions)}")
    if any(f < 0 for f in fractions) or not math.isclose(sum(fractions), 1.0, abs_tol=1e-6):
        raise ValueError(f"--split fractions must be non-negative and sum to 1, got {list(fractions)}")


def split_documents(sentences: Sequence[Sentence], fractions: Sequence[float], seed: int) -> List[List[Sentence]]:
    """The sentences of each split, documents drawn at random with `seed` and kept whole; inside a
    split, documents keep their order in the input. A sentence without a document is one."""
    check_fractions(fractions)
    documents: Dict[object, List[Sentence]] = {}
    for n, sentence in enumerate(sentences):
        documents.setdefault(sentence.doc_key if sentence.doc_key is not None else n, []).append(sentence)
    order = list(documents)
    random.Random(seed).shuffle(order)
    parts, start = [], 0
    for size in _sizes(len(order), fractions):
        chosen = set(order[start:start + size])
        parts.append([s for key in documents if key in chosen for s in documents[key]])
        start += size
    return parts


def _sizes(count: int, fractions: Sequence[float]) -> List[int]:
    """Documents per split: the fractions' shares rounded down, the rest to the largest remainders."""
    shares = [count * f for f in fractions]
    sizes = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(shares)), key=lambda i: sizes[i] - shares[i])
    for i in by_remainder[:count - sum(sizes)]:
        sizes[i] += 1
    return sizes
