"""What `allennlp evaluate --predictions-output-file` writes for SINET and CMAN models."""
import json
from typing import Any, Callable, Dict, Optional

from allennlp.common.util import sanitize
from allennlp.data import DataLoader
from allennlp.evaluation.serializers.serializers import Serializer

from sinet_allen.predictors.sinet_predictor import sentence_result


@Serializer.register("sinet")
class SentenceSerializer(Serializer):
    """One line per sentence, as `allennlp predict --use-dataset-reader` writes it (its source,
    the prediction, its gold), instead of AllenNLP's one line per batch holding the batch's tensors
    and every span's probabilities."""

    def __call__(self, batch: Dict[str, Any], output_dict: Dict[str, Any], data_loader: DataLoader,
                 output_postprocess_function: Optional[Callable] = None) -> str:
        sentences = zip(output_dict["metadata"], output_dict["entities"], output_dict["relations"])
        return "\n".join(
            json.dumps(sanitize(sentence_result({"metadata": metadata, "entities": entities, "relations": relations})))
            for metadata, entities, relations in sentences
        )
