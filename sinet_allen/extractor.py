"""Entity and relation extraction from raw text in Python, with an archived model:

    extractor = Extractor.from_archive("model.tar.gz")
    result = extractor.extract("Text of one or more sentences.")

A thin layer over the `sinet` predictor, so results are those of `allennlp predict` on
`{"document": text}` lines, in the prediction format (sinet_allen/predictors/prediction_format.py);
for files, `allennlp sinet-extract` does the same at scale.
"""
from pathlib import Path
from typing import List, Union

from allennlp.common.util import JsonDict

from sinet_allen.predictors.extraction import load_predictor, predict_in_groups
from sinet_allen.predictors.sinet_predictor import SinetPredictor


class Extractor:
    def __init__(self, predictor: SinetPredictor) -> None:
        self.predictor = predictor

    @classmethod
    def from_archive(
        cls, path: Union[str, Path], cuda_device: int = -1, inference_precision: str = "float32",
        attention: bool = False,
    ) -> "Extractor":
        """Loads a `model.tar.gz` written by `allennlp train`; `cuda_device` -1 means the CPU.
        `inference_precision` "bfloat16" runs a bfloat16 copy of the encoder (faster); `attention`
        adds each sentence's attention maps to the results (docs/prediction.md)."""
        return cls(load_predictor(path, cuda_device, inference_precision, attention))

    def extract(self, text: str) -> JsonDict:
        """`tokens`, `sentences`, `entities` and `relations` of the text (see docs/prediction.md),
        or an error record `{"error": ...}` when a sentence is longer than the encoder accepts."""
        return self.extract_many([text])[0]

    def extract_many(self, texts: List[str], batch_size: int = 32) -> List[JsonDict]:
        """One result per text, as `extract` gives it; `batch_size` texts are prepared at a time
        and their sentences run through the model at most `batch_size` at once."""
        for position, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"a text must be a string, got {type(text).__name__} at position {position}")
        return list(predict_in_groups(self.predictor, ({"document": text} for text in texts), batch_size))
