"""The spaCy pipeline component `sinet`: a trained archive's entities and relations on spaCy Docs.

    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": "model.tar.gz"})
    doc = nlp("We compare hidden Markov models with support vector machines.")
    doc.spans["sinet"], doc.spans["sinet"].attrs["scores"], doc._.sinet_relations

Prediction is the `sinet` predictor's, through an `Extractor`: a Doc whose sentences no earlier
pipe set is predicted as the `{"document": doc.text}` input (the same result as
`Extractor.extract(doc.text)`); a Doc with sentences (from a `sentencizer`, a parser) is predicted
as the `{"sentences": ...}` input, each of its sentences tokenised on its own by the model's
tokenizer (sinet_allen/text.py). Entities land on the Doc's own tokens by their characters:
`Doc.char_span(..., alignment_mode="expand")`, so an entity edge inside a token of the Doc takes
in the whole token. docs/spacy.md says the rest: options, batching, saving, multiprocessing.
"""
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, List, Optional, Tuple

from allennlp.common.util import JsonDict
from spacy.language import Language
from spacy.pipeline import Pipe
from spacy.tokens import Doc, Span, SpanGroup
from spacy.util import filter_spans, minibatch

from sinet_allen.extractor import Extractor
from sinet_allen.predictors.decoding_options import DecodingOptions
from sinet_allen.predictors.extraction import load_predictor
from sinet_allen.spacy_pipeline.relations import store_relations
from sinet_allen.text import CharSpan, sentence_token_spans

ARCHIVE_FILE = "model.tar.gz"  # the archive's name in a saved pipeline's component folder

DEFAULT_CONFIG = {
    "spans_key": "sinet",
    "set_ents": False,
    "batch_size": 32,
    "overlapping_entities": None,
    "relation_threshold": None,
    "inference_precision": "float32",
    "max_length": None,
    "cuda_device": -1,
}


@Language.factory("sinet", default_config=DEFAULT_CONFIG,
                  assigns=["doc.spans", "doc.ents", "doc._.sinet_relations"])
def make_sinet_component(nlp: Language, name: str, archive: str, spans_key: str, set_ents: bool,
                         batch_size: int, overlapping_entities: Optional[bool],
                         relation_threshold: Optional[float], inference_precision: str,
                         max_length: Optional[int], cuda_device: int) -> "SinetComponent":
    """`nlp.add_pipe("sinet", config={"archive": PATH, ...})`; the options are `SinetComponent`'s."""
    return SinetComponent(name, archive, spans_key=spans_key, set_ents=set_ents, batch_size=batch_size,
                          overlapping_entities=overlapping_entities, relation_threshold=relation_threshold,
                          inference_precision=inference_precision, max_length=max_length,
                          cuda_device=cuda_device)


@dataclass
class _DocInput:
    """What the predictor is given for a Doc, and where its words lie in the Doc's text."""

    json: JsonDict
    word_chars: Optional[List[CharSpan]] = None  # per model word; None: the result has char offsets

    @classmethod
    def of(cls, doc: Doc) -> "_DocInput":
        if not doc.has_annotation("SENT_START"):
            return cls({"document": doc.text})
        sentences = [[(sentence.start_char + start, sentence.start_char + end) for start, end in words]
                     for sentence in doc.sents
                     for words in sentence_token_spans(sentence.text, split_sentences=False)]
        tokens = [[doc.text[start:end] for start, end in words] for words in sentences]
        return cls({"sentences": tokens}, [span for words in sentences for span in words])

    def characters(self, entity: JsonDict) -> CharSpan:
        if self.word_chars is None:
            return entity["char_start"], entity["char_end"]
        return self.word_chars[entity["start"]][0], self.word_chars[entity["end"] - 1][1]


class SinetComponent(Pipe):
    """Writes a SINET (or CMAN) archive's predictions on each Doc: entities as a `SpanGroup` in
    `doc.spans[spans_key]` with their scores in its `attrs["scores"]`, relations in
    `doc._.sinet_relations` (sinet_allen/spacy_pipeline/relations.py), and optionally `doc.ents`.

    # Parameters

    name : `str`
        The component's name in the pipeline.
    archive : `str`
        A `model.tar.gz` written by `allennlp train`. It is loaded when the first Doc is predicted
        (so a pipeline can be built, saved and loaded without reading it); `from_disk` points the
        component at the copy inside a saved pipeline.
    spans_key : `str`, optional (default = `"sinet"`)
        The key of the entities' span group in `doc.spans` (and of the relations' rows).
    set_ents : `bool`, optional (default = `False`)
        Also writes the entities to `doc.ents`, which cannot overlap: among overlapping entities the
        longest is kept (then the earliest), as `spacy.util.filter_spans` chooses, and an entity of
        an earlier pipe that overlaps a kept one is dropped. The span group keeps every entity.
        Flat decoding (`overlapping_entities` false) avoids the choice.
    batch_size : `int`, optional (default = `32`)
        The most sentences of one forward pass, and the Docs pooled per pass by `pipe` when it is
        called without a `batch_size` (`nlp.pipe` passes its own).
    overlapping_entities : `bool`, optional (default = `None`)
        SINET's decoding: nested and overlapping entities (true) or flat ones (false); `None`
        keeps the archive's setting. A CMAN archive decodes flat and has no such option.
    relation_threshold : `float`, optional (default = `None`)
        The probability a relation must exceed; `None` keeps the archive's.
    inference_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` runs a bfloat16 copy of the encoder (faster, scores differ slightly).
    max_length : `int`, optional (default = `None`)
        Encodes inputs in segments of this many wordpieces, so that a sentence longer than the
        encoder's limit is predicted rather than refused (docs/model.md, "Long inputs"; 512 for a
        BERT-style encoder); `None` keeps the archive's setting.
    cuda_device : `int`, optional (default = `-1`)
        The GPU to predict on; -1 is the CPU.
    """

    def __init__(self, name: str, archive: str, *, spans_key: str = "sinet", set_ents: bool = False,
                 batch_size: int = 32, overlapping_entities: Optional[bool] = None,
                 relation_threshold: Optional[float] = None, inference_precision: str = "float32",
                 max_length: Optional[int] = None, cuda_device: int = -1) -> None:
        if batch_size < 1:
            raise ValueError(f"sinet component {name!r}: batch_size must be 1 or more, got {batch_size}")
        self.name = name
        self.archive = str(archive)
        self.spans_key = spans_key
        self.set_ents = set_ents
        self.batch_size = batch_size
        self.decoding = DecodingOptions(overlapping_entities, relation_threshold, max_length)  # checked here
        self.inference_precision = inference_precision
        self.cuda_device = cuda_device
        self._extractor: Optional[Extractor] = None

    @property
    def extractor(self) -> Extractor:
        """The archive's `Extractor`, loaded on first use."""
        if self._extractor is None:
            self._extractor = Extractor(load_predictor(self.archive, self.cuda_device, self.inference_precision,
                                                       decoding=self.decoding))
        return self._extractor

    # --- spaCy's entry points ------------------------------------------------------------------

    def __call__(self, doc: Doc) -> Doc:
        (prepared, result), = self._predict([doc])
        self._annotate(doc, prepared, result)
        return doc

    def pipe(self, stream: Iterable[Doc], *, batch_size: Optional[int] = None) -> Iterator[Doc]:
        """The Docs in order, annotated: `batch_size` Docs at a time are predicted together (their
        sentences pooled into forward passes of at most the component's `batch_size`). A Doc that
        cannot be predicted goes to the error handler (spaCy's default raises; a handler that
        returns drops the Doc)."""
        error_handler = self.get_error_handler()
        for docs in minibatch(stream, size=batch_size or self.batch_size):
            try:
                predictions = self._predict(docs)
            except Exception as error:  # the model failed on the batch: spaCy's handler decides
                error_handler(self.name, self, docs, error)
                continue
            for doc, (prepared, result) in zip(docs, predictions):
                try:
                    self._annotate(doc, prepared, result)
                except Exception as error:
                    error_handler(self.name, self, [doc], error)
                    continue
                yield doc

    def to_disk(self, path, *, exclude: Iterable[str] = ()) -> None:
        """Copies the archive into the component's folder of a saved pipeline."""
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / ARCHIVE_FILE
        if not target.exists() or not target.samefile(self.archive):
            shutil.copyfile(self.archive, target)

    def from_disk(self, path, *, exclude: Iterable[str] = ()) -> "SinetComponent":
        """Uses the archive that `to_disk` copied into `path` (loaded when first needed)."""
        archive = Path(path) / ARCHIVE_FILE
        if not archive.is_file():
            raise ValueError(f"{archive} does not exist: {path} is not the folder of a sinet component "
                             "saved by nlp.to_disk")
        self.archive = str(archive)
        self._extractor = None
        return self

    def __reduce__(self):
        # Pickled (multiprocessing by spawn), the component takes its options, not the model: the
        # copy loads the archive when it first predicts. (Cython's pickling of `Pipe` would copy all.)
        return type(self), (self.name, self.archive), {**self.__dict__, "_extractor": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    # --- prediction ----------------------------------------------------------------------------

    def _predict(self, docs: List[Doc]) -> List[Tuple[_DocInput, JsonDict]]:
        prepared = [_DocInput.of(doc) for doc in docs]
        results = self.extractor.predictor.predict_batch_json([item.json for item in prepared], self.batch_size)
        return list(zip(prepared, results))

    def _annotate(self, doc: Doc, prepared: _DocInput, result: JsonDict) -> None:
        if "error" in result:
            raise ValueError(f"sinet component {self.name!r} could not predict the Doc "
                             f"{doc.text[:60]!r}...: {result['error']}")
        entities = result["entities"]
        spans = [_aligned_span(doc, *prepared.characters(entity), entity["type"]) for entity in entities]
        doc.spans[self.spans_key] = SpanGroup(doc, name=self.spans_key, spans=spans,
                                              attrs={"scores": [entity["score"] for entity in entities]})
        store_relations(doc, self.spans_key, [[relation["head"], relation["tail"], relation["type"],
                                               relation["score"]] for relation in result["relations"]])
        if self.set_ents:
            _write_ents(doc, spans)


def _aligned_span(doc: Doc, start: int, end: int, label: str) -> Span:
    """The Doc's tokens that hold the characters [start, end), whole tokens taken in."""
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is None:  # the characters lie in whitespace only: not an entity of the model's words
        raise ValueError(f"the entity {doc.text[start:end]!r} at characters {start}-{end} covers no token of the Doc")
    return span


def _write_ents(doc: Doc, spans: List[Span]) -> None:
    """`doc.ents` gets the entities that do not overlap (the rule of `set_ents`) and keeps the
    earlier entities that overlap none of them."""
    kept = filter_spans(spans)
    taken = {token for span in kept for token in range(span.start, span.end)}
    doc.ents = kept + [entity for entity in doc.ents if taken.isdisjoint(range(entity.start, entity.end))]
