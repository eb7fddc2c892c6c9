"""What the library's models (`sinet`, `cman`) share: the encoder run in a chosen precision, the
decoded output that the predictor, the `sinet` serializer, the commands and the metric read, and
the metric itself."""
import contextlib
import copy
import logging
from typing import Any, Dict, List, Optional, Sequence

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules import TextFieldEmbedder

from sinet_allen.metrics.joint_ie_f1 import JointIEF1
from sinet_allen.models.attention_recorder import AttentionRecorder
from sinet_allen.models.quantization import int8_copy

logger = logging.getLogger(__name__)

BERT_INITIALISER_STD = 0.02  # BERT's initializer_range
PRECISIONS = ("float32", "bfloat16", "int8")  # of inference
TRAINING_PRECISIONS = ("float32", "bfloat16")
BFLOAT16_COPY = "_bfloat16_embedder_copy"
INT8_COPY = "_int8_embedder_copy"

def bfloat16_copy(encoder: torch.nn.Module) -> torch.nn.Module:
    return copy.deepcopy(encoder).to(torch.bfloat16)


# Per reduced inference precision: where the model keeps its encoder's copy, and how it is made.
INFERENCE_COPIES = {"bfloat16": (BFLOAT16_COPY, bfloat16_copy), "int8": (INT8_COPY, int8_copy)}


class JointIEModel(Model):
    """The base of the library's models. A subclass decodes each sentence into entities
    `(start, end, type, score)` and relations `(head, tail, type, score)` and hands them to
    `decoding.decoded_output`, whose keys every consumer reads: `entities`, `relations` (dicts),
    `entity_triples`, `relation_triples` (for the metric) and, after `score`, `metadata`.

    # Parameters

    vocab : `Vocabulary`, required.
    embedder : `TextFieldEmbedder`, required.
        The encoder of the wordpieces.
    symmetric_relations : `Sequence[str]`, optional (default = `()`)
        Relation types without direction: decoded and scored head-before-tail.
    per_type_metrics : `bool`, optional (default = `False`)
        Reports precision, recall and F1 per entity and relation type as well.
    inference_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` runs a bfloat16 copy of the encoder outside training, `"int8"` (CPU only) a
        copy whose Linear layers multiply in int8 (sinet_allen/models/quantization.py).
    training_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` trains with the encoder under bfloat16 autocast.
    return_attention : `bool`, optional (default = `False`)
        Outside training, adds `attention` to the output: per sentence the encoder's last-layer
        [CLS] attention and, in SINET, the CTAM agents' attention per word
        (sinet_allen/models/attention_recorder.py). Off, nothing is recorded; the `sinet` predictor's
        `attention` argument turns it on.
    """

    default_predictor = "sinet"

    def __init__(self, vocab: Vocabulary, embedder: TextFieldEmbedder, symmetric_relations: Sequence[str] = (),
                 per_type_metrics: bool = False, inference_precision: str = "float32",
                 training_precision: str = "float32", return_attention: bool = False, **kwargs) -> None:
        super().__init__(vocab, **kwargs)
        for name, precision, allowed in (("inference_precision", inference_precision, PRECISIONS),
                                         ("training_precision", training_precision, TRAINING_PRECISIONS)):
            if precision not in allowed:
                raise ConfigurationError(f"{name} must be one of {', '.join(allowed)}, not {precision!r}")
        self.inference_precision = inference_precision
        self.training_precision = training_precision
        self.embedder = embedder
        self.symmetric_relations = _known_relations(symmetric_relations, vocab)
        self.metric = JointIEF1(symmetric_relations=self.symmetric_relations, per_type=per_type_metrics)
        self.return_attention = return_attention

    def record_attention(self, interaction: Optional[torch.nn.Module]):
        """A context around the encoding (and `interaction`) of a forward pass that yields an
        `AttentionRecorder` when `return_attention` asks for maps outside training, else `None`."""
        if self.return_attention and not self.training:
            return AttentionRecorder(self._embedder_in_use(), interaction)
        return contextlib.nullcontext()

    def encode(self, tokens: TextFieldTensors) -> torch.Tensor:
        """The encoder's float32 states `[batch, wordpieces, dim]`, computed in the
        `training_precision` or the `inference_precision`."""
        if self.training and self.training_precision == "bfloat16":
            device_type = next(self.embedder.parameters()).device.type
            _refuse_float16_autocast(device_type)
            with torch.autocast(device_type, dtype=torch.bfloat16):
                return self.embedder(tokens).float()
        return self._embedder_in_use()(tokens).float()

    def _embedder_in_use(self) -> torch.nn.Module:
        """The embedder outside autocast: the model's own, or its bfloat16 or int8 copy for inference."""
        if self.training or self.inference_precision == "float32":
            return self.embedder
        return self._inference_embedder()

    def _inference_embedder(self) -> torch.nn.Module:
        # A copy rather than autocast, which would convert every weight again on every call. It
        # stays outside the module tree (not saved) and is made again whenever the weights may
        # have changed: after a switch of mode or a load of weights.
        name, make_copy = INFERENCE_COPIES[self.inference_precision]
        if name not in self.__dict__:
            self.__dict__[name] = make_copy(self.embedder)
        return self.__dict__[name]

    def _drop_inference_copies(self) -> None:
        for name, _ in INFERENCE_COPIES.values():
            self.__dict__.pop(name, None)

    def train(self, mode: bool = True) -> "JointIEModel":
        self._drop_inference_copies()
        return super().train(mode)

    def load_state_dict(self, *args, **kwargs):
        self._drop_inference_copies()
        return super().load_state_dict(*args, **kwargs)

    def _apply(self, fn, *args, **kwargs):
        # Every move or cast of the weights (`.to()`, `.cuda()`, `.cpu()`) passes here; the copy
        # lies outside the module tree, so it would stay behind: it is made again where they went.
        self.__dict__.pop(BFLOAT16_COPY, None)
        return super()._apply(fn, *args, **kwargs)

    def score(self, output: Dict[str, Any], metadata: List[Dict[str, Any]]) -> None:
        """Scores the decoded `output` against the complete gold in the `metadata`, which the
        output then carries (the predictor and the serializer read the tokens and gold there)."""
        self.metric(
            [{"entities": e, "relations": r} for e, r in zip(output["entity_triples"], output["relation_triples"])],
            [{"entities": m["gold_entities"], "relations": m["gold_relations"]} for m in metadata],
        )
        output["metadata"] = metadata

    def make_output_human_readable(self, output_dict: Dict[str, Any]) -> Dict[str, Any]:
        for entities, metadata in zip(output_dict["entities"], output_dict["metadata"]):
            for entity in entities:
                entity["text"] = " ".join(metadata["tokens"][entity["start"] : entity["end"]])
        return output_dict

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        # Training batches are not decoded (that would only slow training down): nothing to report.
        return {} if self.training else self.metric.get_metric(reset)


def _refuse_float16_autocast(device_type: str) -> None:
    """bfloat16 training inside a float16 autocast (the trainer's `use_amp`) would nest two mixed
    precisions: the float16 one, with its loss scaling, would rule everything but the encoder."""
    if torch.is_autocast_enabled(device_type) and torch.get_autocast_dtype(device_type) == torch.float16:
        raise ConfigurationError(
            "training_precision 'bfloat16' cannot be combined with float16 autocast (the trainer's "
            "use_amp): choose one, model.training_precision 'bfloat16' or trainer.use_amp true")


def initialise_like_bert(module: torch.nn.Module) -> None:
    """Normal weights with BERT's standard deviation and zero biases, as BERT starts its own layers."""
    if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
        torch.nn.init.normal_(module.weight, std=BERT_INITIALISER_STD)
    if isinstance(module, torch.nn.Linear) and module.bias is not None:
        torch.nn.init.zeros_(module.bias)


def _known_relations(names: Sequence[str], vocab: Vocabulary) -> frozenset:
    """`names` as a set, checked against the relation labels: with a misspelt name the type meant
    would be decoded and scored as directed. A warning, not an error: a small sample of the data
    (a quick trial run) may lack a type that is rightly named."""
    labels = vocab.get_token_to_index_vocabulary("relation_labels")
    unknown = [name for name in names if name not in labels]
    if unknown:
        logger.warning("symmetric_relations: %s is no relation type of the training data (its types: %s); "
                       "check the spelling", ", ".join(map(repr, unknown)), ", ".join(sorted(labels)) or "none")
    return frozenset(names)
