"""Read any supported input into word-level sentences and write them in a training format or brat."""
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Set

from sinet_allen.conversion.annotated_text import to_sentences
from sinet_allen.conversion.brat import read_brat, write_brat
from sinet_allen.conversion.doccano import read_doccano
from sinet_allen.conversion.label_studio import read_label_studio
from sinet_allen.conversion.predictions import read_predictions
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.conversion.split import SPLIT_NAMES, split_documents
from sinet_allen.dataset_readers.formats import read_sentences, write_dygie, write_spert
from sinet_allen.files import write_json_atomically
from sinet_allen.schema import FormatError, Sentence, TypeInventory

RAW_TEXT_READERS = {"brat": read_brat, "doccano": read_doccano, "label-studio": read_label_studio}
INPUT_FORMATS = ("spert", "dygie", *RAW_TEXT_READERS, "predictions")
OUTPUT_FORMATS = ("spert", "dygie", "brat")
EXTENSIONS = {"spert": ".json", "dygie": ".jsonl", "brat": ""}  # brat: a folder


@dataclass
class Corpus:
    sentences: List[Sentence]
    symmetric: Set[str] = field(default_factory=set)  # types the input marks symmetric (brat's `*`)
    texts: Dict[str, str] = field(default_factory=dict)  # per document key, its raw text (predictions of raw text)


def read_corpus(path: Path, format: str, report: ConversionReport, types: Optional[TypeInventory] = None) -> Corpus:
    """All sentences of the input, labels in the spelling of `types` when given (a label it does
    not declare makes its sentence a bad record)."""
    if format in ("spert", "dygie"):
        return Corpus(list(read_sentences(path, format, types, strict=not report.skip_bad,
                                          on_skip=report.skipped.append)))
    if format == "predictions":
        predictions = read_predictions(path, report)
        corpus = Corpus(predictions.sentences, texts=predictions.texts)
    elif format in RAW_TEXT_READERS:
        documents, symmetric = RAW_TEXT_READERS[format](path, report)
        sentences = [s for document in documents for s in to_sentences(document, report)]
        kept = {r.type for s in sentences for r in s.relations}  # all of a type may have been dropped
        corpus = Corpus(sentences, symmetric & kept)
    else:
        raise FormatError(f"unknown input format {format!r}; expected one of {', '.join(INPUT_FORMATS)}")
    if types is not None:
        corpus.sentences = [s for s in corpus.sentences if _in_inventory(s, types, report)]
    return corpus


def _in_inventory(sentence: Sentence, types: TypeInventory, report: ConversionReport) -> bool:
    """Whether every label of the sentence is declared; renames them to the declared spelling."""
    for kind, items, canonical in (("entity", sentence.entities, types.canonical_entity),
                                   ("relation", sentence.relations, types.canonical_relation)):
        for j, item in enumerate(items):
            name = canonical(item.type)
            if name is None:
                report.bad(f"{sentence.source}: unknown {kind} type {item.type!r} (the types file declares "
                           f"{', '.join(types.entity_types if kind == 'entity' else types.relation_types)})")
                return False
            items[j] = replace(item, type=name)
    return True


def write_corpus(sentences: Sequence[Sentence], output: Path, format: str, symmetric: Iterable[str] = (),
                 text_dir: Optional[Path] = None, texts: Optional[Dict[str, str]] = None) -> None:
    """`texts` (per document key its raw text) and `text_dir` give brat its `.txt` files."""
    if format == "brat":
        write_brat(sentences, output, text_dir, symmetric, texts)
    elif format in ("spert", "dygie"):
        (write_spert if format == "spert" else write_dygie)(sentences, output)
    else:
        raise FormatError(f"unknown output format {format!r}; expected one of {', '.join(OUTPUT_FORMATS)}")


def write_split(sentences: Sequence[Sentence], folder: Path, format: str, fractions: Sequence[float], seed: int,
                symmetric: Iterable[str] = (), text_dir: Optional[Path] = None,
                texts: Optional[Dict[str, str]] = None) -> Dict[str, List[Sentence]]:
    """`train`, `dev` (and `test`) files in `folder`, documents drawn with `seed`."""
    parts = dict(zip(SPLIT_NAMES, split_documents(sentences, fractions, seed)))
    for name, part in parts.items():
        write_corpus(part, folder / f"{name}{EXTENSIONS[format]}", format, symmetric, text_dir, texts)
    return parts


def types_from_data(sentences: Sequence[Sentence], symmetric: Set[str]) -> Dict:
    """A types file (SpERT style) declaring the types in order of first appearance."""
    entities = dict.fromkeys(e.type for s in sentences for e in s.entities)
    relations = dict.fromkeys(r.type for s in sentences for r in s.relations)
    unknown = sorted(symmetric - relations.keys())
    if unknown:
        raise FormatError(f"symmetric relation type(s) {', '.join(unknown)} do not occur in the data "
                          f"(its relation types: {', '.join(relations) or 'none'})")
    return {"entities": {name: {"short": name, "verbose": name} for name in entities},
            "relations": {name: {"short": name, "verbose": name, "symmetric": name in symmetric}
                          for name in relations}}


def write_types(sentences: Sequence[Sentence], symmetric: Set[str], path: Path) -> None:
    write_json_atomically(path, types_from_data(sentences, symmetric))
