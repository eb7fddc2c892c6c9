"""The `sinet` predictor: entities and relations for raw text, tokens or training-format records.

Each input (one JSON object per line for `allennlp predict`) holds exactly one of:

* `{"sentence": "raw text"}`: one sentence, tokenised by spaCy's rule-based English tokenizer;
* `{"document": "raw text"}`: split into sentences by spaCy's rule-based sentencizer;
* `{"tokens": [...]}`: one tokenised sentence, e.g. a SpERT-style record (its gold is replaced);
* `{"sentences": [[...], ...]}`: a tokenised document, e.g. a DyGIE-style line.

The input's other keys (an `id`, a `doc_key`) are copied to the output unchanged.

`allennlp predict --use-dataset-reader` gives per sentence its source, prediction and gold.

Every sentence becomes an instance through the reader's `text_to_instance`, the code path of
training and evaluation. An input that cannot be predicted (not JSON, no accepted key, wrong value
types, raw text with a lone surrogate, a sentence beyond the encoder's limit) gives an error record
`{"error": ..., "line": N}` in its place and the other inputs are still predicted.
"""
import atexit
import itertools
import json
import logging
import os
import sys
from dataclasses import dataclass, field
from functools import cached_property
from types import FrameType
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import spacy
from allennlp.commands.predict import _PredictManager
from allennlp.common.file_utils import cached_path, open_compressed
from allennlp.common.util import JsonDict
from allennlp.data import DatasetReader, Instance
from allennlp.models import Model
from allennlp.predictors import Predictor

from sinet_allen.dataset_readers.formats import FormatError

logger = logging.getLogger(__name__)

INPUT_KEYS = ("sentence", "document", "tokens", "sentences")
SCORE_DECIMALS = 4


class InputError(ValueError):
    """An input that cannot be predicted; the message says why."""


class _Line(dict):
    """An input line as `load_line` parsed it, with its line number in the input file (a dict, so
    AllenNLP can print it) and, when it could not be parsed, why."""

    def __init__(self, content: Dict[str, Any], number: int, error: Optional[str] = None) -> None:
        super().__init__(content)
        self.number = number
        self.error = error


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
            return {"text": " ".join(self.tokens[start:end])}
        char_start, char_end = self.char_spans[start][0], self.char_spans[end - 1][1]
        return {"text": self.text[char_start:char_end], "char_start": char_start, "char_end": char_end}


@Predictor.register("sinet")
class SinetPredictor(Predictor):
    """Predicts the inputs described in the module docstring; `batch_size` bounds the sentences of
    one forward pass (a long document is split into several), e.g.
    `allennlp predict model.tar.gz input.jsonl --predictor-args '{"batch_size": 8}'`."""

    def __init__(self, model: Model, dataset_reader: DatasetReader, frozen: bool = True,
                 batch_size: int = 32) -> None:
        super().__init__(model, dataset_reader, frozen)
        self.batch_size = batch_size
        # Rule-based tokenizer and sentence splitter: no model download, no network.
        self._nlp = spacy.blank("en")
        self._nlp.add_pipe("sentencizer")
        self._nlp.max_length = sys.maxsize  # spaCy's limit guards its parser's memory; neither pipe needs it
        self._lines: Optional[_InputLines] = None

    # --- AllenNLP's entry points ---------------------------------------------------------------

    def load_line(self, line: str) -> JsonDict:
        if self._lines is None:
            self._lines = _InputLines.of_caller(sys._getframe(1))
        number = next(self._lines.numbers)
        try:
            content = json.loads(line)
        except json.JSONDecodeError as error:
            return _Line({}, number, f"the line is not valid JSON: {error.msg} at column {error.colno}")
        if not isinstance(content, dict):
            return _Line({}, number, f"expected a JSON object, got {type(content).__name__}")
        return _Line(content, number)

    def predict_instance(self, instance: Instance) -> JsonDict:
        return self.predict_batch_instance([instance])[0]

    def predict_batch_instance(self, instances: List[Instance]) -> List[JsonDict]:
        """For `allennlp predict --use-dataset-reader` on a data file: per sentence its source,
        the prediction in the output schema of token input, and its gold as evaluation sees it."""
        return [sentence_result(output) for output in super().predict_batch_instance(instances)]

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
        return [_with_other_keys(given, _result(item, outputs)) if isinstance(item, _Request) else item
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
        doc = self._nlp(text) if split else self._nlp.make_doc(text)
        request = _Request([], is_document=split, text=text)
        for span in doc.sents if split else [doc[:]]:
            # spaCy keeps runs of extra whitespace as tokens; the encoder has no wordpiece for them.
            words = [token for token in span if not token.is_space]
            if words:
                request.sentences.append([token.text for token in words])
                request.char_spans.extend((token.idx, token.idx + len(token.text)) for token in words)
        return request

    def _instances(self, request: _Request) -> List[Instance]:
        instances = []
        for k, tokens in enumerate(request.sentences):
            if not tokens:  # nothing to predict: the model is not run for it
                continue
            try:
                instances.append(self._dataset_reader.text_to_instance(tokens))
            except FormatError as error:  # a sentence longer than the encoder's limit
                raise InputError(f"sentence {k + 1}: {error}" if request.is_document else str(error))
        return instances

    def _error_record(self, message: str, item: JsonDict) -> JsonDict:
        record: JsonDict = {"error": message}
        if isinstance(item, _Line):
            record["line"] = item.number
            self._lines.record_failure()
        return record

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


def _result(request: _Request, outputs: Iterator[JsonDict]) -> JsonDict:
    """The sentences' model outputs joined into one result with document-level offsets."""
    entities: List[JsonDict] = []
    relations: List[JsonDict] = []
    ranges: List[List[int]] = []
    offset = 0
    for tokens in request.sentences:
        ranges.append([offset, offset + len(tokens)])
        if tokens:
            output, first = next(outputs), len(entities)
            entities.extend(_entity(request, entity, offset) for entity in output["entities"])
            relations.extend(
                {"head": relation["head"] + first, "tail": relation["tail"] + first, "type": relation["type"],
                 "score": round(relation["score"], SCORE_DECIMALS)}
                for relation in output["relations"]
            )
        offset += len(tokens)
    result = {"tokens": request.tokens, "entities": entities, "relations": relations}
    if request.is_document:
        result["sentences"] = ranges
    return result


def sentence_result(output: JsonDict) -> JsonDict:
    """A sentence of a data file: its source, the prediction of the model's `output` for it and
    its gold from the output's metadata."""
    metadata = output["metadata"]
    prediction = _result(_Request([metadata["tokens"]], is_document=False), iter([output]))
    identifiers = {key: metadata[key] for key in ("source", "doc_key", "sentence_index") if metadata[key] is not None}
    return {**identifiers, **prediction,
            "gold_entities": metadata["gold_entities"], "gold_relations": metadata["gold_relations"]}


def _with_other_keys(given: JsonDict, result: JsonDict) -> JsonDict:
    """The input's keys besides the one predicted (an `id`, a `doc_key`, ...) copied unchanged,
    so that results can be joined back to their inputs, then the result, whose keys replace
    those of the same name (a training record's gold `entities` and `relations`)."""
    other = {key: value for key, value in given.items() if key not in INPUT_KEYS and key not in result}
    return {**other, **result}


def _entity(request: _Request, entity: JsonDict, offset: int) -> JsonDict:
    start, end = entity["start"] + offset, entity["end"] + offset
    return {"type": entity["type"], "start": start, "end": end, **request.surface(start, end),
            "score": round(entity["score"], SCORE_DECIMALS)}


class _InputLines:
    """Numbers the lines `load_line` receives as the input file does and, under `allennlp predict`,
    makes the command exit with status 1 when a line failed.

    AllenNLP's `_PredictManager` hides both: it skips blank lines before `load_line` sees them, and
    it returns normally after the last line (status 0) whatever the lines held, with no hook in
    between. A plugin cannot replace the `predict` command either, because AllenNLP imports plugins
    only after it has parsed the command line. So the first `load_line` call looks at its caller:
    when that is the manager's line loop (AllenNLP 2.10.1 is the last release, so this stays true),
    a second reader of the same file, skipping blank lines by the same test, gives the real line
    numbers (on standard input, which cannot be read twice, blank lines are not counted). Any other
    caller gets consecutive numbers and keeps its exit status.
    """

    def __init__(self, numbers: Iterator[int], manager: Optional[_PredictManager] = None) -> None:
        self.numbers = numbers
        self.manager = manager  # the `predict` command's, if it is the caller
        self.failures = 0

    @classmethod
    def of_caller(cls, frame: FrameType) -> "_InputLines":
        if frame.f_code is not _PredictManager._get_json_data.__code__:
            return cls(itertools.count(1))
        manager = frame.f_locals["self"]
        path = manager._input_file
        return cls(itertools.count(1) if path == "-" else _non_blank_line_numbers(path), manager)

    def record_failure(self) -> None:
        self.failures += 1
        if self.manager and self.failures == 1:
            atexit.register(self._exit_with_failure_status)

    def _exit_with_failure_status(self) -> None:
        """Runs at interpreter exit, after AllenNLP has written every output (and closed it, unless
        an exception stopped the command): the status is the one thing left to set, and an exit
        handler can only set it with `os._exit`, which skips the remaining handlers, so this runs
        them first (a handler registered after the first failure, which has run already, would run
        twice; the imports register theirs long before)."""
        logger.error("%d input line(s) could not be predicted; their error records are in the output",
                     self.failures)
        atexit.unregister(self._exit_with_failure_status)
        if self.manager._output_file is not None:  # still open if the command stopped on an exception
            self.manager._output_file.close()
        atexit._run_exitfuncs()  # logging's shutdown, torch's and the temporary files' clean-ups
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)


def _non_blank_line_numbers(path: str) -> Iterator[int]:
    """The numbers of the lines `_PredictManager` passes to `load_line`: it opens the file the same
    way and skips the lines that are only whitespace."""
    with open_compressed(cached_path(path)) as lines:
        for number, line in enumerate(lines, 1):
            if not line.isspace():
                yield number
