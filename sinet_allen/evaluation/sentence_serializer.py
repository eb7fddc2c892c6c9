"""What `allennlp evaluate --predictions-output-file` writes for SINET and CMAN models."""
from typing import Any, Callable, Dict, Optional

from allennlp.data import DataLoader
from allennlp.evaluation.serializers.serializers import Serializer

from sinet_allen.predictors.prediction_format import dump_line, sentence_record


@Serializer.register("sinet")
class SentenceSerializer(Serializer):
    """One line per sentence in the prediction format (`sinet_allen/predictors/prediction_format.py`:
    its source, the prediction, its gold), as `allennlp predict --use-dataset-reader` and
    `allennlp sinet-experiment` write it, instead of AllenNLP's one line per batch holding the
    batch's tensors and every span's probabilities. Set it in a config's
    `"evaluation": {"batch_serializer": {"type": "sinet"}}` (as `training_config/sinet.libsonnet` does).

    # Parameters

    None: the lines hold everything the model decodes, so there is nothing to choose.
    """

    def __call__(self, batch: Dict[str, Any], output_dict: Dict[str, Any], data_loader: DataLoader,
                 output_postprocess_function: Optional[Callable] = None) -> str:
        sentences = zip(output_dict["metadata"], output_dict["entities"], output_dict["relations"])
        # AllenNLP's evaluator adds the newline after the batch's last line.
        return "".join(
            dump_line(sentence_record({"metadata": metadata, "entities": entities, "relations": relations}))
            for metadata, entities, relations in sentences
        ).rstrip("\n")
