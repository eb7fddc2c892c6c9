"""Entity and relation extraction from raw text in Python, with an archived model:

    extractor = Extractor.from_archive("model.tar.gz")
    result = extractor.extract("Text of one or more sentences.")
    flat = extractor.extract(text, decoding=DecodingOptions(overlapping_entities=False))

A thin layer over the `sinet` predictor, so results are those of `allennlp predict` on
`{"document": text}` lines, in the prediction format (sinet_allen/predictors/prediction_format.py);
for files, `allennlp sinet-extract` does the same at scale.
"""
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Union

from allennlp.common.util import JsonDict

from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.extraction import load_predictor, predict_in_groups
from sinet_allen.predictors.sinet_predictor import SinetPredictor


class Extractor:
    def __init__(self, predictor: SinetPredictor) -> None:
        self.predictor = predictor

    @classmethod
    def from_archive(
        cls, path: Union[str, Path], cuda_device: int = -1, inference_precision: str = "float32",
        attention: bool = False, overlapping_entities: Optional[bool] = None,
        relation_threshold: Optional[float] = None, max_length: Optional[int] = None,
    ) -> "Extractor":
        """Loads a `model.tar.gz` written by `allennlp train`; `cuda_device` -1 means the CPU.
        `inference_precision` "bfloat16" runs a bfloat16 copy of the encoder (faster); `attention`
        adds each sentence's attention maps to the results; `overlapping_entities`,
        `relation_threshold` and `max_length` replace the archive's decoding options
        (docs/prediction.md, "Decoding options"), `None` keeping them."""
        decoding = DecodingOptions(overlapping_entities, relation_threshold, max_length)
        return cls(load_predictor(path, cuda_device, inference_precision, attention, decoding))

    def extract(self, text: str, decoding: Optional[DecodingOptions] = None) -> JsonDict:
        """`text`, `tokens`, `sentences`, `entities` and `relations` of the text (see
        docs/prediction.md), decoded with `decoding` over the extractor's options, or an error
        record `{"error": ...}` when the text cannot be predicted."""
        return self.extract_many([text], decoding=decoding)[0]

    def extract_many(self, texts: Iterable[str], batch_size: int = 32,
                     decoding: Optional[DecodingOptions] = None) -> List[JsonDict]:
        """One result per text, in order, as `extract` gives it; `texts` may be any iterable (a
        generator is read once), but not one string. The sentences of the texts are batched by
        length, at most `batch_size` at once."""
        if isinstance(texts, (str, bytes)):
            raise TypeError("extract_many takes an iterable of texts, not one string; use extract(text)")
        documents = ({"document": text} for text in _checked_texts(texts))
        return list(predict_in_groups(self.predictor, documents, batch_size, decoding=decoding))


def _checked_texts(texts: Iterable[str]) -> Iterator[str]:
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"a text must be a string, got {type(text).__name__} at position {position}")
        yield text
