"""The `sinet` predictor: entities and relations for raw text, tokens or training-format records.

Each input (one JSON object per line for `allennlp predict`) holds exactly one of:

* `{"sentence": "raw text"}`: one sentence, tokenised by spaCy's rule-based English tokenizer;
* `{"document": "raw text"}`: split into sentences by spaCy's rule-based sentencizer;
* `{"tokens": [...]}`: one tokenised sentence, e.g. a SpERT-style record (its gold is replaced);
* `{"sentences": [[...], ...]}`: a tokenised document, e.g. a DyGIE-style line.

The input's other keys (an `id`, a `doc_key`) are copied to the output unchanged. When the model's
reader has a `context_window`, each sentence of a `document` or `sentences` input is read with the
text around it in that input; a `sentence` or `tokens` input has no context. The output is the
line format of `sinet_allen/predictors/prediction_format.py`; `allennlp predict --use-dataset-reader`
gives per sentence its source, prediction and gold.

Every sentence becomes an instance through the reader's `text_to_instance`, the code path of
training and evaluation. An input that cannot be predicted (not JSON, no accepted key, wrong value
types, raw text with a lone surrogate, a sentence beyond the encoder's limit) gives an error record
`{"error": ..., "line": N}` in its place, is logged with the count of failures so far, and the other
inputs are still predicted. Under `allennlp predict`, N counts the lines the predictor has seen:
AllenNLP skips blank lines before the predictor sees them, so N is the line's number in the file only
when the file has no blank lines, and the command's exit status is 0 whatever the lines held.
`allennlp sinet-extract` numbers lines as the file does and exits 1 when a line failed.
"""
import json
import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from allennlp.common.util import JsonDict
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor

from sinet_allen.schema import FormatError
from sinet_allen.predictors.prediction_format import (
    add_sentence, dump_line, error_record, prediction_record, sentence_record, token_surface)
from sinet_allen.text import sentence_token_spans

logger = logging.getLogger(__name__)

INPUT_KEYS = ("sentence", "document", "tokens", "sentences")


class InputError(ValueError):
    """An input that cannot be predicted; the message says why."""


class InputLine(dict):
    """An input line, parsed (a dict, so AllenNLP can print it), with its line number and, when it
    could not be parsed, why."""

    def __init__(self, content: Dict[str, Any], number: int, error: Optional[str] = None) -> None:
        super().__init__(content)
        self.number = number
        self.error = error

    @classmethod
    def parse(cls, line: str, number: int) -> "InputLine":
        try:
            content = json.loads(line)
        except json.JSONDecodeError as error:
            return cls({}, number, f"the line is not valid JSON: {error.msg} at column {error.colno}")
        if not isinstance(content, dict):
            return cls({}, number, f"expected a JSON object, got {type(content).__name__}")
        return cls(content, number)


@dataclass
class _Request:
    """One input, tokenised: its sentences and, when raw text was given, each token's characters."""

    sentences: List[List[str]]
    is_document: bool
    text: Optional[str] = None
    char_spans: List[Tuple[int, int]] = field(default_factory=list)  # per token of the document
    instances: List[Instance] = field(default_factory=list)  # one per non-empty sentence

    @cached_property  # asked for once the sentences are complete
    def tokens(self) -> List[str]:
        return [token for sentence in self.sentences for token in sentence]

    def surface(self, start: int, end: int) -> Dict[str, Any]:
        """The text of tokens [start, end): an exact slice of the input text when there was one."""
        if self.text is None:
            return token_surface(self.tokens)(start, end)
        char_start, char_end = self.char_spans[start][0], self.char_spans[end - 1][1]
        return {"text": self.text[char_start:char_end], "char_start": char_start, "char_end": char_end}


@Predictor.register("sinet")
class SinetPredictor(Predictor):
    """Predicts the inputs described in the module docstring, e.g.
    `allennlp predict model.tar.gz input.jsonl --predictor-args '{"batch_size": 8}'`.

    # Parameters

    model : `Model`
        The SINET (or CMAN) model, usually from an archive.
    dataset_reader : `DatasetReader`
        The model's `joint_ie` reader; every sentence becomes an instance through its `text_to_instance`.
    frozen : `bool`, optional (default = `True`)
        Whether the model is put into evaluation mode (AllenNLP's `Predictor` parameter).
    batch_size : `int`, optional (default = `32`)
        The most sentences of one forward pass: a long document is split into several passes, and
        the sentences of the inputs of one `predict_batch_json` call are batched together.
    attention : `bool`, optional (default = `False`)
        Adds each sentence's attention maps (`attention` in the prediction format): sets the
        model's `return_attention`, e.g. `--predictor-args '{"attention": true}'`.
    """

    def __init__(self, model: Model, dataset_reader: DatasetReader, frozen: bool = True,
                 batch_size: int = 32, attention: bool = False) -> None:
        super().__init__(model, dataset_reader, frozen)
        self.batch_size = batch_size
        self._sinet = model  # AllenNLP keeps the model in a private attribute
        self.attention = attention
        self.lines_seen = 0  # by `load_line`: the line number of `allennlp predict`'s error records
        self.failures = 0  # inputs that gave an error record

    @property
    def model(self) -> Model:
        return self._sinet

    @property
    def attention(self) -> bool:
        """Whether results carry attention maps (the model's `return_attention`); can be changed between calls."""
        return self._sinet.return_attention

    @attention.setter
    def attention(self, wanted: bool) -> None:
        self._sinet.return_attention = wanted

    # --- AllenNLP's entry points ---------------------------------------------------------------

    def load_line(self, line: str) -> JsonDict:
        self.lines_seen += 1
        return InputLine.parse(line, self.lines_seen)

    def dump_line(self, outputs: JsonDict) -> str:
        return dump_line(outputs)

    def predict_instance(self, instance: Instance) -> JsonDict:
        return self.predict_batch_instance([instance])[0]

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        """For `allennlp predict --use-dataset-reader` on a data file: per sentence its source,
        the prediction and its gold as evaluation sees it."""
        return [sentence_record(output) for output in super().predict_batch_instance(instances)]

    def predict_json(self, inputs: JsonDict) -> JsonDict:
        # The batch path, so that one input alone and in a batch are predicted the same way.
        return self.predict_batch_json([inputs])[0]

    def predict_batch_json(self, inputs: List[JsonDict], batch_size: Optional[int] = None) -> List[JsonDict]:
        """One output per input, in order: a result or an error record. `batch_size` overrides the
        predictor's bound on the sentences of one forward pass."""
        prepared = [self._prepare(item) for item in inputs]
        requests = [item for item in prepared if isinstance(item, _Request)]
        instances = [instance for request in requests for instance in request.instances]
        outputs = iter(self._predict_instances(instances, batch_size or self.batch_size))
        return [_result(given, item, outputs) if isinstance(item, _Request) else item
                for given, item in zip(inputs, prepared)]

    # --- inputs --------------------------------------------------------------------------------

    def _prepare(self, item: JsonDict) -> Union[_Request, JsonDict]:
        """The tokenised input with its instances, or an error record saying why there are none."""
        try:
            request = self._parse(item)
            request.instances = self._instances(request)
            return request
        except InputError as error:
            return self._error_record(str(error), item)

    def _parse(self, item: JsonDict) -> _Request:
        if getattr(item, "error", None):
            raise InputError(item.error)
        if not isinstance(item, dict):
            raise InputError(f"expected a JSON object, got {type(item).__name__}")
        keys = [key for key in INPUT_KEYS if key in item]
        if len(keys) != 1:
            found = ", ".join(repr(key) for key in (keys or item)) or "none"
            raise InputError("expected exactly one of the keys 'sentence' or 'document' (raw text), 'tokens' "
                             f"(a list of strings) or 'sentences' (a list of token lists); found {found}")
        key, value = keys[0], item[keys[0]]
        if key in ("sentence", "document"):
            if not isinstance(value, str):
                raise InputError(f"'{key}' must be a string, got {type(value).__name__}")
            return self._tokenise(_unicode(value, f"'{key}'"), split=key == "document")
        if key == "tokens":
            return _Request([_token_list(value, "'tokens'")], is_document=False)
        if not isinstance(value, list):
            raise InputError(f"'sentences' must be a list of token lists, got {type(value).__name__}")
        return _Request([_token_list(tokens, f"sentences[{k}]") for k, tokens in enumerate(value)],
                        is_document=True)

    def _tokenise(self, text: str, split: bool) -> _Request:
        request = _Request([], is_document=split, text=text)
        for words in sentence_token_spans(text, split_sentences=split):
            request.sentences.append([text[start:end] for start, end in words])
            request.char_spans.extend(words)
        return request

    def _instances(self, request: _Request) -> List[Instance]:
        instances = []
        for k, tokens in enumerate(request.sentences):
            if not tokens:  # nothing to predict: the model is not run for it
                continue
            # A document's sentences are each other's context (when the reader has a context window).
            before, after = request.sentences[:k], request.sentences[k + 1:]
            try:
                instances.append(self._dataset_reader.text_to_instance(tokens, before, after))
            except FormatError as error:  # a sentence longer than the encoder's limit
                raise InputError(f"sentence {k + 1}: {error}" if request.is_document else str(error))
        return instances

    def _error_record(self, message: str, item: JsonDict) -> JsonDict:
        self.failures += 1
        line = item.number if isinstance(item, InputLine) else None
        logger.warning("%s could not be predicted (%d failure(s) so far): %s",
                       "an input" if line is None else f"input line {line}", self.failures, message)
        return error_record(message, line)

    # --- the model -----------------------------------------------------------------------------

    def _predict_instances(self, instances: List[Instance], batch_size: int) -> List[JsonDict]:
        """Predicts in batches of sentences of similar length (little padding, so less work; the
        model's results do not depend on the batching) and returns the outputs in input order."""
        order = sorted(range(len(instances)), key=lambda index: len(instances[index]["tokens"]))
        outputs: List[Optional[JsonDict]] = [None] * len(instances)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            for index, output in zip(batch, super().predict_batch_instance([instances[i] for i in batch])):
                outputs[index] = output
        return outputs


def _token_list(value: Any, where: str) -> List[str]:
    if not isinstance(value, list) or not all(isinstance(token, str) for token in value):
        raise InputError(f"{where} must be a list of strings")
    return value


def _unicode(text: str, where: str) -> str:
    """`text`, checked for what JSON allows and spaCy cannot tokenise: a lone surrogate (\\ud800).
    (Given tokens go to the encoder's tokenizer as in training, which takes them.)"""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InputError(f"{where} holds a lone surrogate {text[error.start]!r} at character {error.start}, "
                         "which is not text") from None
    return text


def _result(given: JsonDict, request: _Request, outputs: Iterator[JsonDict]) -> JsonDict:
    """The sentences' model outputs joined into one result with document-level offsets, after the
    `given` input's other keys (an `id`, a `doc_key`, ...), so results can be joined to their inputs."""
    entities: List[JsonDict] = []
    relations: List[JsonDict] = []
    ranges: List[List[int]] = []
    attention: List[Optional[JsonDict]] = []
    offset = 0
    for tokens in request.sentences:
        ranges.append([offset, offset + len(tokens)])
        output = next(outputs) if tokens else {}
        if tokens:
            add_sentence(entities, relations, output, offset, request.surface)
        attention.append(output.get("attention"))
        offset += len(tokens)
    other = {key: value for key, value in given.items() if key not in INPUT_KEYS}
    return prediction_record(other, request.tokens, entities, relations, ranges if request.is_document else None,
                             attention=attention if any(attention) else None)
