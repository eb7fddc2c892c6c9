"""The `sinet` predictor: entities and relations for raw text, tokens or training-format records.

Each input (one JSON object per line for `allennlp predict`) holds exactly one of:

* `{"sentence": "raw text"}`: one sentence, tokenised by spaCy's rule-based English tokenizer;
* `{"document": "raw text"}`: split into sentences by spaCy's rule-based sentencizer;
* `{"tokens": [...]}`: one tokenised sentence, e.g. a SpERT-style record (its gold is replaced);
* `{"sentences": [[...], ...]}`: a tokenised document, e.g. a DyGIE-style line.

The input's other keys (an `id`, a `doc_key`) are copied to the output unchanged, but for an
optional `decoding` object: that input's `DecodingOptions` (sinet_allen/predictors/decoding_options.py:
`overlapping_entities`, `relation_threshold`, `max_length`), over the call's and the predictor's. When the model's
reader has a `context_window`, each sentence of a `document` or `sentences` input is read with the
text around it in that input; a `sentence` or `tokens` input has no context. The output is the
line format of `sinet_allen/predictors/prediction_format.py`; `allennlp predict --use-dataset-reader`
gives per sentence its source, prediction and gold.

Every sentence becomes an instance through the reader's `text_to_instance`, the code path of
training and evaluation; a sentence longer than `max_length` wordpieces (by default the encoder's
limit) is encoded in segments, in forward passes of its own (sinet_allen/predictors/folding.py).
The sentences of one call are predicted in batches of similar length (`bucketing`), their results
returned in input order. Any input that cannot be parsed, read or predicted (not JSON, nested too
deeply, no accepted key, wrong value types, raw text with a lone surrogate, a bad `decoding` option,
a failure of the model on it) gives an error record `{"error": ..., "line": N}` in its place, is logged with the count of failures so far, and the other
inputs are still predicted. Under `allennlp predict`, N counts the lines the predictor has seen:
AllenNLP skips blank lines before the predictor sees them, so N is the line's number in the file only
when the file has no blank lines, and the command's exit status is 0 whatever the lines held.
`allennlp sinet-extract` numbers lines as the file does and exits 1 when a line failed.
"""
import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

from allennlp.common.checks import ConfigurationError
from allennlp.common.util import JsonDict, sanitize
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor

from sinet_allen.schema import FormatError
from sinet_allen.predictors.decoding_options import DecodingOptions, OptionError
from sinet_allen.predictors.folding import Folding, folding
from sinet_allen.predictors.prediction_format import (
    add_sentence, dump_line, error_record, prediction_record, sentence_record, token_surface)
from sinet_allen.text import sentence_token_spans

logger = logging.getLogger(__name__)
# How an error record begins (after "sentence k: ") when the failure was not the input's fault but
# an exception of the reader or the model: its text may hold paths or data (the server hides it).
UNREADABLE = "the input could not be read"
MODEL_FAILED = "the model failed on it"

INPUT_KEYS = ("sentence", "document", "tokens", "sentences")
OPTIONS_KEY = "decoding"  # an input's own DecodingOptions; not copied to its result
DECODING_ATTRIBUTES = ("overlapping_entities", "relation_threshold")  # the model's, set per forward pass


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
        except RecursionError:
            return cls({}, number, "the line nests JSON arrays or objects too deeply to be read")
        if not isinstance(content, dict):
            return cls({}, number, f"expected a JSON object, got {type(content).__name__}")
        return cls(content, number)


@dataclass(frozen=True)
class PassKey:
    """What a forward pass is run with: its sentences share the decoding options and the segment
    length they are folded at (`None`: encoded whole, or as the archive's own reader folds)."""

    overlapping_entities: Optional[bool]
    relation_threshold: Optional[float]
    fold_at: Optional[int]


@dataclass
class _Request:
    """One input, tokenised: its sentences and, when raw text was given, each token's characters."""

    sentences: List[List[str]]
    is_document: bool
    text: Optional[str] = None
    char_spans: List[Tuple[int, int]] = field(default_factory=list)  # per token of the document
    instances: List[Tuple[Instance, PassKey]] = field(default_factory=list)  # one per non-empty sentence

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
    overlapping_entities : `bool`, optional (default = `None`)
        `False` decodes flat entities (the best of overlapping spans); `None` keeps the archive's.
    relation_threshold : `float`, optional (default = `None`)
        The relation probability to exceed; `None` keeps the archive's.
    max_length : `int`, optional (default = `None`)
        Sentences of more wordpieces are encoded in segments of this many, in passes of their own;
        `None` keeps the archive's `max_length`, or else the encoder's limit.
    bucketing : `bool`, optional (default = `True`)
        Batches the sentences of a call by length (less padding); `False` keeps their input order.
        The results come in input order either way (a score's last decimal may differ: the
        encoder's rounding depends on the padded batch).
    """

    def __init__(self, model: Model, dataset_reader: DatasetReader, frozen: bool = True,
                 batch_size: int = 32, attention: bool = False, overlapping_entities: Optional[bool] = None,
                 relation_threshold: Optional[float] = None, max_length: Optional[int] = None,
                 bucketing: bool = True) -> None:
        super().__init__(model, dataset_reader, frozen)
        self.batch_size = batch_size
        self._sinet = model  # AllenNLP keeps the model in a private attribute
        self.attention = attention
        self.bucketing = bucketing
        self.lines_seen = 0  # by `load_line`: the line number of `allennlp predict`'s error records
        self.failures = 0  # inputs that gave an error record
        self.archive_decoding = DecodingOptions(
            getattr(model, "overlapping_entities", None), getattr(model, "relation_threshold", None),
            dataset_reader.max_length or dataset_reader.max_wordpieces)
        try:
            self.decoding = self._checked(
                DecodingOptions(overlapping_entities, relation_threshold, max_length).over(self.archive_decoding))
        except OptionError as error:
            raise ConfigurationError(f"the sinet predictor's options: {error}") from None
        self._foldings: Dict[int, Folding] = {}
        self._model_lock = threading.Lock()  # one forward pass at a time: a pass sets the model's options

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

    def resolve(self, options: DecodingOptions) -> DecodingOptions:
        """`options` over the predictor's, checked against this model: an `OptionError` says what
        it cannot do."""
        return self._checked(options.over(self.decoding))

    def _checked(self, resolved: DecodingOptions) -> DecodingOptions:
        limit = self._dataset_reader.max_wordpieces
        if resolved.max_length > limit:
            raise OptionError(f"max_length must be at most the encoder's limit of {limit} wordpieces, "
                              f"got {resolved.max_length}")
        if resolved.overlapping_entities and not hasattr(self._sinet, "overlapping_entities"):
            raise OptionError(f"overlapping_entities: this model ({type(self._sinet).__name__}) tags words "
                              "and decodes flat entities only")
        return resolved

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

    def predict_batch_json(self, inputs: List[JsonDict], batch_size: Optional[int] = None,
                           decoding: Optional[DecodingOptions] = None) -> List[JsonDict]:
        """One output per input, in order: a result or an error record. `batch_size` overrides the
        predictor's bound on the sentences of one forward pass; `decoding` the predictor's
        options for this call (an input's own `decoding` key overrides both; a bad option of the
        call is an `OptionError`, of an input that input's error record)."""
        call = self.resolve(decoding or DecodingOptions())
        prepared = [self._prepare(item, call) for item in inputs]
        requests = [item for item in prepared if isinstance(item, _Request)]
        outputs = iter(self._predict_instances([pair for request in requests for pair in request.instances],
                                               batch_size or self.batch_size))
        return [self._result(given, item, outputs) if isinstance(item, _Request) else item
                for given, item in zip(inputs, prepared)]

    # --- inputs --------------------------------------------------------------------------------

    def _prepare(self, item: JsonDict, call: DecodingOptions) -> Union[_Request, JsonDict]:
        """The tokenised input with its instances, or an error record saying why there are none."""
        try:
            request = self._parse(item)
            request.instances = self._instances(request, self._options(item, call))
            return request
        except InputError as error:
            return self._error_record(str(error), item)
        except Exception as error:  # whatever the reader met: this input's failure, not the run's
            return self._error_record(f"{UNREADABLE}: {type(error).__name__}: {error}", item)

    def _options(self, item: JsonDict, call: DecodingOptions) -> DecodingOptions:
        if OPTIONS_KEY not in item:
            return call
        try:
            return self.resolve(DecodingOptions.from_json(item[OPTIONS_KEY]).over(call))
        except (OptionError, TypeError) as error:
            raise InputError(f"'{OPTIONS_KEY}': {error}") from None

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
        _check_writable(_other_keys(item))
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

    def _instances(self, request: _Request, options: DecodingOptions) -> List[Tuple[Instance, PassKey]]:
        instances = []
        for k, tokens in enumerate(request.sentences):
            if not tokens:  # nothing to predict: the model is not run for it
                continue
            # A document's sentences are each other's context (when the reader has a context window).
            before, after = request.sentences[:k], request.sentences[k + 1:]
            instance, fold_at = self._sentence_instance(tokens, before, after, options.max_length)
            instances.append((instance, PassKey(options.overlapping_entities, options.relation_threshold, fold_at)))
        return instances

    def _sentence_instance(self, tokens: List[str], before: List[List[str]], after: List[List[str]],
                           max_length: int) -> Tuple[Instance, Optional[int]]:
        """The sentence's instance and the segment length it is folded at (`None` if not at all):
        the archive's reader reads it unless it is longer than `max_length` wordpieces."""
        reader = self._dataset_reader
        try:
            instance = reader.text_to_instance(tokens, before, after)
        except FormatError:  # longer than the encoder's limit: only a reader that folds reads it
            instance = None
        if instance is not None and len(instance["tokens"]) <= max_length:
            return instance, None
        if instance is not None and max_length == reader.max_length:  # the archive's reader folds it
            return instance, max_length
        return self._folding(max_length).reader.text_to_instance(tokens, before, after), max_length

    def _folding(self, length: int) -> Folding:
        if length not in self._foldings:
            self._foldings[length] = folding(self._dataset_reader, self._sinet.embedder, length)
        return self._foldings[length]

    def _error_record(self, message: str, item: JsonDict) -> JsonDict:
        self.failures += 1
        line = item.number if isinstance(item, InputLine) else None
        logger.warning("%s could not be predicted (%d failure(s) so far): %s",
                       "an input" if line is None else f"input line {line}", self.failures, message)
        return error_record(message, line)

    # --- the model -----------------------------------------------------------------------------

    def _predict_instances(self, instances: List[Tuple[Instance, PassKey]],
                           batch_size: int) -> List[Union[JsonDict, Exception]]:
        """Per instance its model output, or the exception the model raised on it alone. Instances
        of one `PassKey` are batched together, by length when `bucketing` (little padding, so less
        work; the model's results do not depend on the batching), the folded ones last."""
        groups: Dict[PassKey, List[int]] = {}
        for index, (_, key) in enumerate(instances):
            groups.setdefault(key, []).append(index)
        outputs: List[Union[JsonDict, Exception]] = [None] * len(instances)  # type: ignore[list-item]
        with self._model_lock:
            for key in sorted(groups, key=lambda key: key.fold_at is not None):
                members = groups[key]
                if self.bucketing:
                    members = sorted(members, key=lambda index: len(instances[index][0]["tokens"]))
                with self._forward_passes(key):
                    for start in range(0, len(members), batch_size):
                        batch = members[start : start + batch_size]
                        for index, output in zip(batch, self._predict_batch([instances[i][0] for i in batch])):
                            outputs[index] = output
        return outputs

    def _predict_batch(self, instances: List[Instance]) -> List[Union[JsonDict, Exception]]:
        """The batch's outputs; if the model fails on the batch, each instance predicted alone, so
        that only the instances it fails on alone get their exception."""
        try:
            # Not AllenNLP's predict_batch_instance: it would index every instance with the archive
            # reader's indexers, and folded instances carry the folding reader's own.
            return sanitize(self._model.forward_on_instances(instances))
        except Exception as error:
            if len(instances) == 1:
                return [error]
            return [self._predict_batch([instance])[0] for instance in instances]

    @contextmanager
    def _forward_passes(self, key: PassKey):
        """The model set up for passes of `key`: its decoding options and, for folded sentences, an
        embedder that folds; restored afterwards."""
        model = self._sinet
        saved = {name: getattr(model, name) for name in DECODING_ATTRIBUTES if hasattr(model, name)}
        for name in saved:
            setattr(model, name, getattr(key, name))
        original = model.embedder
        folds = key.fold_at is not None and key.fold_at != self._dataset_reader.max_length
        try:
            if folds:
                _use_embedder(model, self._folding(key.fold_at).embedder)
            yield
        finally:
            for name, value in saved.items():
                setattr(model, name, value)
            if folds:
                _use_embedder(model, original)

    def _result(self, given: JsonDict, request: _Request, outputs: Iterator[Union[JsonDict, Exception]]) -> JsonDict:
        """The request's result from the next of the `outputs` (one per non-empty sentence), or its
        error record when the model failed on one of its sentences."""
        mine = [next(outputs) for _ in request.instances]
        failed = next((k for k, output in enumerate(mine) if isinstance(output, Exception)), None)
        if failed is None:
            return _result(given, request, iter(mine))
        error = mine[failed]
        where = f"sentence {failed + 1}: " if len(mine) > 1 else ""
        return self._error_record(f"{where}{MODEL_FAILED}: {type(error).__name__}: {error}", given)


def _use_embedder(model: Model, embedder) -> None:
    """Makes `embedder` the model's; `train` again in the same mode, so that the eval mode reaches
    it and the copies the model keeps of its embedder (another precision) are made anew from it."""
    model.embedder = embedder
    model.train(model.training)


def _other_keys(item: JsonDict) -> JsonDict:
    return {key: value for key, value in item.items() if key not in INPUT_KEYS and key != OPTIONS_KEY}


def _check_writable(other: JsonDict) -> None:
    """The input's other keys, which its result carries, must be writable as JSON."""
    try:
        json.dumps(other)
    except (RecursionError, ValueError, TypeError) as error:
        raise InputError(f"the input's other keys ({', '.join(map(repr, other))}) cannot be written back "
                         f"as JSON: {type(error).__name__}") from None


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
    `given` input's other keys (an `id`, a `doc_key`, ...), so results can be joined to their inputs;
    raw text comes back as `text`, which the entities' character offsets index."""
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
    return prediction_record(_other_keys(given), request.tokens, entities, relations,
                             ranges if request.is_document else None,
                             attention=attention if any(attention) else None, text=request.text)
