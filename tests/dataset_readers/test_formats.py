"""Reading, validating and writing the SpERT- and DyGIE-style formats; the canonical order of a
symmetric relation."""
import json
import logging

import pytest

from sinet_allen.dataset_readers.formats import detect_format, load_types, read_sentences, write_dygie, write_spert
from sinet_allen.schema import Entity, FormatError, Relation, Sentence, canonical_relation
from conftest import FIXTURE_DATA as FIXTURES, require_real_data

TYPES = FIXTURES / "spert/types.json"
SPLITS = ("train", "dev", "test")
REAL_FILES = ("scierc/types.json", "scierc/test.json", "scierc_dygie/test.jsonl")
GOOD = {"tokens": ["Kernel", "methods", "work", "."],
        "entities": [{"type": "Method", "start": 0, "end": 2}], "relations": []}


def gold(sentence):
    """Entities as (start, end, type) and relations as (head span, tail span, type), order-free."""
    spans = [(e.start, e.end) for e in sentence.entities]
    return ({(e.start, e.end, e.type) for e in sentence.entities},
            {(spans[r.head], spans[r.tail], r.type) for r in sentence.relations})


def write_json(path, data):
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def write_lines(path, docs):
    path.write_text("".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs),
                    encoding="utf-8")
    return path


def read(path, **kwargs):
    return list(read_sentences(path, **kwargs))


# ----------------------------------------------------------------------------- types and detection


def test_load_types_reads_the_fixture_types():
    types = load_types(TYPES)
    assert types.entity_types == ("Task", "Method", "Metric", "Material", "OtherScientificTerm",
                                  "Generic")
    assert len(types.relation_types) == 7
    assert types.symmetric == {"Compare", "Conjunction"}
    assert types.canonical_relation("USED-FOR") == "Used-for"
    assert types.canonical_entity("otherscientificterm") == "OtherScientificTerm"
    assert types.canonical_entity("Person") is None


@pytest.mark.parametrize("content, problem", [
    ('{"entities": {"Task": {}}, ', "malformed JSON at line 1"),
    ('[]', "must be a JSON object"),
    ('{"entities": {"Task": {}}}', "'relations' must be an object"),
    ('{"entities": {}, "relations": {}}', "declares no entity types"),
    ('{"entities": {"Task": "x"}, "relations": {}}', "entities['Task'] must be an object"),
    ('{"entities": {"Task": {}}, "relations": {"R": {"symmetric": "yes"}}}', "symmetric must be"),
    ('{"entities": {"Task": {}, "TASK": {}}, "relations": {}}', "differ only in case"),
    ('{"entities": {"Task": {}, "O": {}}, "relations": {}}', "'O' is reserved for spans that are no entity"),
])
def test_load_types_rejects_bad_files(tmp_path, content, problem):
    path = tmp_path / "types.json"
    path.write_text(content)
    with pytest.raises(FormatError, match="types.json") as error:
        load_types(path)
    assert problem in str(error.value)


@pytest.mark.parametrize("content, expected", [
    ("[{}]", "spert"), ('\n  \n{"doc_key": "a"}\n', "dygie"), ("  [\n]", "spert")])
def test_detect_format_by_content(tmp_path, content, expected):
    path = tmp_path / "data.txt"
    path.write_text(content)
    assert detect_format(path) == expected


@pytest.mark.parametrize("content, problem", [("", "empty"), ("  \n\n", "empty"),
                                              ("tokens", "starts with 't'")])
def test_detect_format_rejects_empty_and_unknown(tmp_path, content, problem):
    path = tmp_path / "data.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=problem) as error:
        detect_format(path)
    assert str(path) in str(error.value)


def test_unknown_format_argument_fails_at_call_time(tmp_path):
    with pytest.raises(ValueError, match="unknown format 'conll'"):
        read_sentences(write_json(tmp_path / "a.json", [GOOD]), format="conll")


# ----------------------------------------------------------------------------- SpERT-style input


@pytest.mark.parametrize("record, problem", [
    (["Kernel", "methods"], "expected a sentence object, got a list"),
    ({"entities": []}, "missing 'tokens'"),
    ({"tokens": "Kernel methods"}, "'tokens' must be a list of strings, got a string"),
    ({"tokens": ["Kernel", 7]}, "tokens[1] must be a string"),
    ({"tokens": ["a", "b"], "entities": {"type": "Task"}}, "'entities' must be a list"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 1, "end": 3}]},
     "entities[0]: span [1, 3) lies outside the sentence (2 tokens)"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": -1, "end": 1}]},
     "entities[0]: span [-1, 1) lies outside"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 1, "end": 1}]},
     "entities[0]: start 1 >= end 1"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": "0", "end": 1}]},
     "entities[0]: 'start' must be an integer"),
    ({"tokens": ["a", "b"], "entities": [{"start": 0, "end": 1}]}, "entities[0]: missing 'type'"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 0, "end": 1}],
      "relations": [{"type": "Used-for", "head": 0, "tail": 1}]},
     "relations[0]: tail 1 points at no entity (the sentence has 1)"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 0, "end": 1}],
      "relations": [{"type": "Used-for", "head": -1, "tail": 0}]}, "relations[0]: head -1 points"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Person", "start": 0, "end": 1}]},
     "entities[0]: unknown entity type 'Person'"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 0, "end": 1},
                                          {"type": "Method", "start": 1, "end": 2}],
      "relations": [{"type": "Kills", "head": 0, "tail": 1}]},
     "relations[0]: unknown relation type 'Kills'"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 0, "end": 1}],
      "relations": [{"type": "Used-for", "head": 0, "tail": 0}]},
     "relations[0]: head and tail are the same span [0, 1)"),
    ({"tokens": ["a", "b"], "entities": [{"type": "Task", "start": 0, "end": 1},
                                          {"type": "Method", "start": 0, "end": 1}],
      "relations": [{"type": "Used-for", "head": 0, "tail": 1}]},
     "relations[0]: head and tail are the same span [0, 1)"),
])
def test_spert_bad_record_names_file_record_and_problem(tmp_path, record, problem):
    path = write_json(tmp_path / "bad.json", [GOOD, record, GOOD])
    with pytest.raises(FormatError) as error:
        read(path, types=load_types(TYPES))
    assert str(error.value).startswith(f"{path}, record 1: ")
    assert problem in str(error.value)


@pytest.mark.parametrize("content, problem", [
    ('[\n{"tokens": []},\n{"tokens": [}\n]', "malformed JSON at line 3, column"),
    ('{"tokens": []}', "must be a JSON list of sentence records, got an object"),
])
def test_spert_bad_file_names_file_and_position(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(FormatError, match=problem) as error:
        read(path, format="spert", strict=False)  # a broken file cannot be skipped record-wise
    assert str(path) in str(error.value)


def test_the_no_entity_label_is_no_entity_type(tmp_path):
    record = {"tokens": ["a", "b"], "entities": [{"type": "O", "start": 0, "end": 1}]}
    with pytest.raises(FormatError, match=r"record 1: entities\[0\]: the entity type 'O' is reserved"):
        read(write_json(tmp_path / "o.json", [GOOD, record]))  # without a types file, which cannot declare it


def test_invalid_utf8_is_an_error_naming_file_and_line(tmp_path):
    spert = tmp_path / "latin1.json"
    spert.write_bytes(b'[\n{"tokens": ["a"]},\n{"tokens": ["caf\xe9"]}\n]')
    with pytest.raises(FormatError, match=r"latin1.json, line 3: not valid UTF-8 \(byte b'\\xe9'\)"):
        read(spert)
    dygie = tmp_path / "latin1.jsonl"
    dygie.write_bytes(json.dumps(doc(TWO)).encode() + b'\n{"sentences": [["caf\xe9"]]}\n'
                      + json.dumps(doc(TWO)).encode() + b"\n")
    with pytest.raises(FormatError, match=r"latin1.jsonl, line 2: not valid UTF-8"):
        read(dygie)
    assert [s.source for s in read(dygie, strict=False)] == [  # skipped as one bad line
        "latin1.jsonl, line 1, sentence 0", "latin1.jsonl, line 1, sentence 1",
        "latin1.jsonl, line 3, sentence 0", "latin1.jsonl, line 3, sentence 1"]


def test_a_byte_order_mark_is_read_as_utf8(tmp_path):
    bom = "\ufeff".encode()
    spert, dygie = tmp_path / "bom.json", tmp_path / "bom.jsonl"
    spert.write_bytes(bom + json.dumps([GOOD]).encode())
    dygie.write_bytes(bom + json.dumps(doc(TWO)).encode() + b"\n")
    assert read(spert)[0].tokens == GOOD["tokens"]
    assert [s.tokens for s in read(dygie)] == TWO
    types = tmp_path / "types.json"
    types.write_bytes(bom + TYPES.read_bytes())
    assert load_types(types) == load_types(TYPES)


def test_spert_reads_fields_and_canonicalises_labels(tmp_path):
    record = {"tokens": ["SVMs", "for", "parsing"], "orig_id": 42,
              "entities": [{"type": "method", "start": 0, "end": 1},
                           {"type": "TASK", "start": 2, "end": 3}],
              "relations": [{"type": "used-FOR", "head": 0, "tail": 1}]}
    path = write_json(tmp_path / "one.json", [{"tokens": []}, record])
    empty, sentence = read(path, types=load_types(TYPES))
    assert empty == Sentence([], [], [], "one.json, record 0")
    assert sentence.entities == [Entity(0, 1, "Method"), Entity(2, 3, "Task")]
    assert sentence.relations == [Relation(0, 1, "Used-for")]
    assert (sentence.source, sentence.doc_key, sentence.sentence_index) == \
        ("one.json, record 1", "42", 0)
    # Without a types file the labels are kept as written.
    assert read(path)[1].entities[0].type == "method"


# ----------------------------------------------------------------------------- DyGIE-style input


def doc(sentences, ner=None, relations=None, **extra):
    d = {"doc_key": "D1", "sentences": sentences, **extra}
    if ner is not None:
        d["ner"] = ner
    if relations is not None:
        d["relations"] = relations
    return d


TWO = [["Kernel", "methods", "work"], ["SVMs", "parse", "text", "."]]  # document tokens 0-2, 3-6


@pytest.mark.parametrize("document, where, problem", [
    ('{"doc_key": "D1", "sentences": [[}', "line 2", "malformed JSON at column"),
    ('["a", "b"]', "line 2", "expected a document object, got a list"),
    (doc(None), "line 2", "'sentences' must be a list of token lists"),
    ({"doc_key": "D1"}, "line 2", "missing 'sentences'"),
    (doc([["a"], "b c"]), "line 2", "sentences[1] must be a list of tokens"),
    (doc(TWO, ner=[[]]), "line 2", "'ner' must be a list with one list per sentence (2)"),
    (doc(TWO, ner=[[], []], relations="none"), "line 2", "'relations' must be a list"),
    (doc([["a", None], ["b"]]), "line 2, sentence 0", "tokens[1] must be a string"),
    (doc(TWO, ner=[[], [[3, 7, "Task"]]]), "line 2, sentence 1",
     "ner[1][0]: span [3, 7] lies outside the document (7 tokens)"),
    (doc(TWO, ner=[[], [[5, 4, "Task"]]]), "line 2, sentence 1", "ner[1][0]: start 5 > end 4"),
    (doc(TWO, ner=[[[2, 3, "Task"]], []]), "line 2, sentence 0",
     "ner[0][0]: span [2, 3] crosses a sentence boundary (sentence 0 covers document tokens 0..2)"),
    (doc(TWO, ner=[[[4, 5, "Task"]], []]), "line 2, sentence 0",
     "ner[0][0]: span [4, 5] lies outside sentence 0"),
    (doc(TWO, ner=[[], [[3, "4", "Task"]]]), "line 2, sentence 1", "must be integers"),
    (doc(TWO, ner=[[], [[3, 4]]]), "line 2, sentence 1", "ner[1][0]: expected [start, end, label]"),
    (doc(TWO, ner=[[], [[3, 3, "Method"], [5, 5, "Task"]]],
         relations=[[], [[3, 3, 4, 5, "USED-FOR"]]]), "line 2, sentence 1",
     "relations[1][0]: tail span [4, 5] is no entity of sentence 1"),
    (doc(TWO, ner=[[[0, 1, "Method"]], [[3, 3, "Method"]]],
         relations=[[], [[0, 1, 3, 3, "COMPARE"]]]), "line 2, sentence 1",
     "relations[1][0] head: span [0, 1] lies outside sentence 1"),
    (doc(TWO, ner=[[], [[3, 3, "PERSON"]]]), "line 2, sentence 1", "unknown entity type 'PERSON'"),
    (doc(TWO, ner=[[], [[3, 3, "METHOD"], [5, 5, "TASK"]]], relations=[[], [[3, 3, 5, 5, "X"]]]),
     "line 2, sentence 1", "relations[1][0]: unknown relation type 'X'"),
    (doc(TWO, ner=[[], [[3, 4, "METHOD"]]], relations=[[], [[3, 4, 3, 4, "USED-FOR"]]]),
     "line 2, sentence 1", "relations[1][0]: head and tail are the same span [3, 4]"),
])
def test_dygie_bad_input_names_file_line_sentence_and_problem(tmp_path, document, where, problem):
    path = write_lines(tmp_path / "bad.jsonl", [doc(TWO), document, doc(TWO)])
    with pytest.raises(FormatError) as error:
        read(path, types=load_types(TYPES))
    assert str(error.value).startswith(f"{path}, {where}: ")
    assert problem in str(error.value)


def test_dygie_splits_documents_into_sentences(tmp_path):
    document = doc(TWO + [[]], ner=[[[0, 1, "METHOD"]], [[3, 3, "method"], [5, 6, "Task"]], []],
                   relations=[[], [[3, 3, 5, 6, "USED-FOR"]], []], clusters=[[[0, 1], [3, 3]]],
                   dataset="scierc")
    path = write_lines(tmp_path / "docs.jsonl", ["", doc([["Hello"]]), "  ", document])
    hello, first, second, empty = read(path, types=load_types(TYPES))
    assert (hello.entities, hello.relations) == ([], [])
    assert hello.source == "docs.jsonl, line 2, sentence 0"
    assert first.entities == [Entity(0, 2, "Method")]
    assert second.tokens == TWO[1]
    assert second.entities == [Entity(0, 1, "Method"), Entity(2, 4, "Task")]
    assert second.relations == [Relation(0, 1, "Used-for")]
    assert (second.source, second.doc_key, second.sentence_index) == \
        ("docs.jsonl, line 4, sentence 1", "D1", 1)
    assert (empty.tokens, empty.sentence_index) == ([], 2)


def test_dygie_relation_uses_first_entity_with_the_span(tmp_path):
    document = doc(TWO[:1], ner=[[[0, 0, "Method"], [0, 0, "Task"], [2, 2, "Task"]]],
                   relations=[[[0, 0, 2, 2, "Used-for"]]])
    [sentence] = read(write_lines(tmp_path / "d.jsonl", [document]))
    assert sentence.relations == [Relation(0, 2, "Used-for")]


# ----------------------------------------------------------------------------- lenient reading


def test_lenient_spert_skips_bad_records_with_counted_warnings(tmp_path, caplog):
    bad = {"tokens": ["a"], "entities": [{"type": "Task", "start": 0, "end": 5}]}
    path = write_json(tmp_path / "mixed.json", [GOOD, bad, "junk", dict(GOOD, orig_id="last")])
    with caplog.at_level(logging.WARNING):
        sentences = read(path, strict=False)
    assert [s.source for s in sentences] == ["mixed.json, record 0", "mixed.json, record 3"]
    assert sentences[1].doc_key == "last"
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"{path}, record 1: entities[0]" in m for m in messages)
    assert any(f"{path}, record 2: expected a sentence object" in m for m in messages)
    assert messages[-1] == f"{path}: skipped 2 invalid record(s), kept 2 sentence(s)"


def test_lenient_dygie_skips_bad_sentences_and_broken_lines(tmp_path, caplog):
    path = write_lines(tmp_path / "mixed.jsonl", [
        doc(TWO, ner=[[[0, 0, "Task"]], [[2, 3, "Task"]]]),  # sentence 1 crosses a boundary
        '{"doc_key": "broken", ',
        doc(TWO, ner=[[], [[3, 3, "Task"]]])])
    with caplog.at_level(logging.WARNING):
        sentences = read(path, strict=False)
    assert [s.source for s in sentences] == ["mixed.jsonl, line 1, sentence 0",
                                             "mixed.jsonl, line 3, sentence 0",
                                             "mixed.jsonl, line 3, sentence 1"]
    assert sentences[2].entities == [Entity(0, 1, "Task")]  # offsets unaffected by the skips
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"{path}, line 1, sentence 1: ner[1][0]: span [2, 3] crosses" in m for m in messages)
    assert any(f"{path}, line 2: malformed JSON" in m for m in messages)
    assert messages[-1] == f"{path}: skipped 2 invalid record(s), kept 3 sentence(s)"


def test_clean_file_logs_no_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        read(FIXTURES / "dygie/train.jsonl", strict=False)
    assert not caplog.records


# ----------------------------------------------------------------------------- fixtures


@pytest.mark.parametrize("split", SPLITS)
def test_fixture_spert_and_dygie_give_identical_gold(split):
    types = load_types(TYPES)
    spert = read(FIXTURES / f"spert/{split}.json", types=types)
    dygie = read(FIXTURES / f"dygie/{split}.jsonl", types=types)
    assert len(spert) == len(dygie)
    for a, b in zip(spert, dygie):
        assert a.tokens == b.tokens
        assert a.doc_key == b.doc_key
        assert gold(a) == gold(b), (a.source, b.source)


@pytest.mark.parametrize("split", SPLITS)
def test_fixtures_cover_the_hard_cases(split):
    sentences = read(FIXTURES / f"spert/{split}.json", types=load_types(TYPES))
    entities = [(s, e) for s in sentences for e in s.entities]
    assert any(not s.tokens for s in sentences), "an empty sentence"
    assert any(s.entities and not s.relations for s in sentences), "entities without relations"
    assert any(len(s.relations) >= 3 for s in sentences), "several relations"
    assert any(e.end - e.start > 8 for _, e in entities), "an entity longer than max_span_size"
    assert any(o is not e and o.start <= e.start and e.end <= o.end
               for s, e in entities for o in s.entities), "nested entities"
    assert any(r.type in {"Compare", "Conjunction"} for s in sentences for r in s.relations)
    if split == "train":
        types = load_types(TYPES)
        assert {e.type for _, e in entities} == set(types.entity_types)
        assert {r.type for s in sentences for r in s.relations} == set(types.relation_types)


# ----------------------------------------------------------------------------- writing


@pytest.mark.parametrize("split", SPLITS)
def test_round_trips_preserve_everything(tmp_path, split):
    spert = read(FIXTURES / f"spert/{split}.json")
    write_dygie(spert, tmp_path / "a.jsonl")
    write_spert(read(tmp_path / "a.jsonl"), tmp_path / "b.json")
    again = read(tmp_path / "b.json")
    assert [(s.tokens, s.entities, s.relations, s.doc_key) for s in again] == \
        [(s.tokens, s.entities, s.relations, s.doc_key) for s in spert]

    dygie = read(FIXTURES / f"dygie/{split}.jsonl")
    write_spert(dygie, tmp_path / "c.json")
    write_dygie(read(tmp_path / "c.json"), tmp_path / "d.jsonl")
    assert [json.loads(line)["ner"] for line in (tmp_path / "d.jsonl").read_text().splitlines()] == \
        [json.loads(line)["ner"] for line in (FIXTURES / f"dygie/{split}.jsonl").read_text().splitlines()]
    again = read(tmp_path / "d.jsonl")
    assert [(s.tokens, s.entities, s.relations, s.doc_key, s.sentence_index) for s in again] == \
        [(s.tokens, s.entities, s.relations, s.doc_key, s.sentence_index) for s in dygie]


def test_write_dygie_groups_documents_and_uses_inclusive_document_offsets(tmp_path):
    sentences = [
        Sentence(["a", "b"], [Entity(0, 2, "Task")], [], "x", doc_key="D"),
        Sentence(["c", "d", "e"], [Entity(0, 1, "Task"), Entity(1, 3, "Method")],
                 [Relation(1, 0, "Used-for")], "x", doc_key="D"),
        Sentence(["f"], [Entity(0, 1, "Task")], [], "x"),
        Sentence(["g"], [], [], "x"),
    ]
    write_dygie(sentences, tmp_path / "out.jsonl")
    docs = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [d["doc_key"] for d in docs] == ["D", "sentence-2", "sentence-3"]
    assert docs[0]["ner"] == [[[0, 1, "Task"]], [[2, 2, "Task"], [3, 4, "Method"]]]
    assert docs[0]["relations"] == [[], [[3, 4, 2, 2, "Used-for"]]]
    write_spert(sentences, tmp_path / "out.json")
    records = json.loads((tmp_path / "out.json").read_text())
    assert [r.get("orig_id") for r in records] == ["D", "D", None, None]
    assert "orig_id" not in records[2]


def test_failed_write_leaves_no_partial_file(tmp_path):
    def failing():
        yield Sentence(["a"], [], [], "x")
        raise FormatError("broken input")

    target = tmp_path / "out.json"
    for writer in (write_spert, write_dygie):
        with pytest.raises(FormatError):
            writer(failing(), target)
        assert list(tmp_path.iterdir()) == []
    target.write_text("old")
    with pytest.raises(FormatError):
        write_spert(failing(), target)
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


# ----------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def data_dir():
    return require_real_data(*REAL_FILES)


def test_real_scierc_spert_and_dygie_agree(data_dir):
    types = load_types(data_dir / "scierc/types.json")
    spert = read(data_dir / "scierc/test.json", types=types)
    dygie = read(data_dir / "scierc_dygie/test.jsonl", types=types)
    for sentences in (spert, dygie):
        assert (len(sentences), sum(len(s.entities) for s in sentences),
                sum(len(s.relations) for s in sentences)) == (551, 1685, 974)
    for a, b in zip(spert, dygie):
        assert gold(a) == gold(b), (a.source, b.source)


def test_canonical_relation_orders_only_symmetric_types():
    first, second = (0, 2, "PER"), (4, 5, "PER")
    assert canonical_relation(second, first, "PER-SOC", {"PER-SOC"}) == (first, second)
    assert canonical_relation(first, second, "PER-SOC", {"PER-SOC"}) == (first, second)
    assert canonical_relation(second, first, "PHYS", {"PER-SOC"}) == (second, first)
    # Same start: the shorter span first, then the type.
    assert canonical_relation((3, 5, "ORG"), (3, 4, "PER"), "X", {"X"}) == ((3, 4, "PER"), (3, 5, "ORG"))
    # Any items, ordered by the mention they stand for (the model passes entity indices).
    mentions = {7: second, 9: first}
    assert canonical_relation(7, 9, "PER-SOC", {"PER-SOC"}, mention=mentions.get) == (9, 7)
