"""The reader's context window: a window of 0 gives the instances of the sentence-level reader (a
snapshot taken before windows existed), spans and gold stay the target sentence's, word offsets map
into the window, a sentence at a document's edge fills its window from the other side, data without
documents is refused, and long inputs are folded with `max_length` instead of refused."""
import json

import pytest

from conftest import FIXTURE_DATA, FIXTURES, TINY_BERT
from instance_snapshot import snapshot

from sinet_allen.dataset_readers.formats import read_sentences
from sinet_allen.schema import FormatError
from sinet_allen.dataset_readers.joint_ie import JointIEReader, split_context

SNAPSHOT = FIXTURES / "context" / "sentence_level_instances.json"
TYPES = FIXTURE_DATA / "spert" / "types.json"
FILES = {"spert": FIXTURE_DATA / "spert" / "train.json", "dygie": FIXTURE_DATA / "dygie" / "train.jsonl"}


def reader(**kwargs) -> JointIEReader:
    # The snapshot was taken when the reader's default symmetric_reverse was "positive".
    kwargs.setdefault("symmetric_reverse", "positive")
    return JointIEReader(str(TINY_BERT), types_file=str(TYPES), symmetric_relations=["Compare", "Conjunction"],
                         **kwargs)


def token_ids(instance):
    return [token.text for token in instance["tokens"].tokens]


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_a_window_of_zero_gives_the_sentence_level_instances_field_by_field(name, mode):
    expected = json.loads(SNAPSHOT.read_text())[f"{name}/{mode}"]
    sampling = {"training_instances": True, "neg_entity_count": 5, "neg_relation_count": 5} if mode == "train" else {}
    instances = list(reader(context_window=0, seed=7, **sampling).read(str(FILES[name])))
    assert snapshot(instances) == expected


@pytest.mark.parametrize("budget, left, right, expected", [
    (10, 100, 100, (5, 5)),
    (9, 100, 100, (4, 5)),
    (10, 2, 100, (2, 8)),  # the document's start: the right side fills in
    (10, 100, 3, (7, 3)),  # its end: the left side fills in
    (10, 2, 3, (2, 3)),  # a short document: all of it
    (0, 100, 100, (0, 0)),
])
def test_the_context_is_split_evenly_and_one_side_fills_in_for_the_other(budget, left, right, expected):
    assert split_context(budget, left, right) == expected


@pytest.fixture(scope="module")
def windowed():
    """DyGIE fixture sentences with and without a window of 12 wordpieces, as evaluation instances."""
    path = str(FILES["dygie"])
    return list(reader().read(path)), list(reader(context_window=12).read(path))


def test_spans_and_gold_stay_the_target_sentences(windowed):
    alone, with_context = windowed
    assert len(alone) == len(with_context)
    for sentence, instance in zip(alone, with_context):
        start, end = instance["metadata"]["target_wordpieces"]
        # The target's wordpieces are the sentence's own, in the middle of a longer input.
        assert token_ids(instance)[start:end] == token_ids(sentence)[1:-1]
        assert instance["entity_spans"].tensor.tolist() == sentence["entity_spans"].tensor.tolist()
        spans = instance["entity_wordpiece_spans"].tensor
        assert ((spans >= start) & (spans <= end)).all()
        assert (spans - start + 1).tolist() == sentence["entity_wordpiece_spans"].tensor.tolist()
        for key in ("tokens", "gold_entities", "gold_relations"):
            assert instance["metadata"][key] == sentence["metadata"][key]
    assert any(len(token_ids(w)) > len(token_ids(s)) for s, w in zip(alone, with_context))


def test_training_spans_negatives_and_pairs_stay_the_target_sentences():
    options = {"training_instances": True, "neg_entity_count": 5, "neg_relation_count": 5, "seed": 3}
    alone = list(reader(**options).read(str(FILES["dygie"])))
    with_context = list(reader(context_window=12, **options).read(str(FILES["dygie"])))
    for sentence, instance in zip(alone, with_context):
        for field in ("entity_spans", "relation_pairs"):
            if field in sentence.fields:
                assert instance[field].tensor.tolist() == sentence[field].tensor.tolist()
        assert [f.label for f in instance["entity_labels"]] == [f.label for f in sentence["entity_labels"]]


def test_word_offsets_map_into_the_window(tmp_path):
    words = ["Unsupervised", "parsing", "of", "morphologically", "rich", "languages", "."]
    path = tmp_path / "doc.jsonl"
    path.write_text(json.dumps({"doc_key": "d", "sentences": [["A", "first", "sentence", "."], words,
                                                             ["The", "last", "one", "."]]}) + "\n")
    wide = reader(context_window=6)
    instance = list(wide.read(str(path)))[1]
    encoded = wide._encoded[str(path)][1]
    pieces = token_ids(instance)
    for word, (start, end) in zip(words, encoded.word_offsets):
        alone = wide.tokenizer.intra_word_tokenize([word])[0][1:-1]
        assert pieces[start:end] == [piece.text for piece in alone]


def edge_document(tmp_path, lengths):
    path = tmp_path / "edge.jsonl"
    sentences = [[f"w{k}x{i}" for i in range(n)] for k, n in enumerate(lengths)]
    path.write_text(json.dumps({"doc_key": "edge", "sentences": sentences}) + "\n")
    return path


def test_a_sentence_at_a_documents_edge_fills_its_window_from_the_other_side(tmp_path):
    wide = reader(context_window=20)
    path = edge_document(tmp_path, [6, 6, 6, 6, 6, 6])
    instances = list(wide.read(str(path)))
    sizes = [len(token_ids(instance)) for instance in instances]
    targets = [instance["metadata"]["target_wordpieces"] for instance in instances]
    own = [end - start for start, end in targets]
    # Every window is full: target + 20 context wordpieces + [CLS] and [SEP].
    assert sizes == [n + 20 + 2 for n in own]
    assert targets[0][0] == 1  # the first sentence: all of its context comes after it
    assert sizes[-1] - targets[-1][1] == 1  # the last: all of it before (then only [SEP])
    middle_start, middle_end = targets[2]
    assert middle_start - 1 == 10 and sizes[2] - 1 - middle_end == 10  # in between: half and half


def test_context_is_refused_for_data_without_documents(tmp_path):
    path = tmp_path / "sentences.json"
    records = [{"tokens": ["One", "."], "orig_id": "a"}, {"tokens": ["Two", "."], "orig_id": "b"}]
    path.write_text(json.dumps(records))
    with pytest.raises(FormatError, match=r"sentences\.json: the reader's context_window is 8, but no document"):
        list(reader(context_window=8).read(str(path)))
    assert len(list(reader().read(str(path)))) == 2  # sentence-level reading needs no documents


def test_spert_records_name_their_document_by_doc_key_before_orig_id(tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"tokens": ["One"], "doc_key": "d", "orig_id": "a"},
                                {"tokens": ["Two"], "doc_key": "d", "orig_id": "b"}]))
    assert [sentence.doc_key for sentence in read_sentences(path)] == ["d", "d"]
    wide = reader(context_window=8)
    both = [piece.text for piece in wide.tokenizer.intra_word_tokenize(["One", "Two"])[0][1:-1]]
    assert [token_ids(instance)[1:-1] for instance in wide.read(str(path))] == [both, both]


def test_the_context_is_cut_to_the_encoders_limit_and_long_inputs_need_max_length(tmp_path):
    path = edge_document(tmp_path, [8, 8, 8])
    limited = reader(context_window=100, max_wordpieces=64)
    instances = list(limited.read(str(path)))
    assert [len(token_ids(instance)) for instance in instances] == [64] * 3
    long_sentence = edge_document(tmp_path, [6, 100])
    with pytest.raises(FormatError, match="more than the encoder's limit of 64.*set max_length"):
        list(reader(max_wordpieces=64).read(str(long_sentence)))
    folded = reader(max_wordpieces=64, max_length=64, context_window=100)
    instance = list(folded.read(str(long_sentence)))[1]
    first, second = (folded._word_pieces(s.tokens)[0] for s in read_sentences(long_sentence))
    assert len(second) > 64 and instance["metadata"]["target_wordpieces"] == (1 + len(first), 1 + len(first) + len(second))


def test_text_to_instance_with_neighbours_is_the_instance_read_from_the_file(windowed):
    _, with_context = windowed
    wide = reader(context_window=12)
    document = [s.tokens for s in read_sentences(FILES["dygie"])][:5]  # the first document
    for k, tokens in enumerate(document):
        built = wide.text_to_instance(tokens, document[:k], document[k + 1:])
        assert token_ids(built) == token_ids(with_context[k])
        assert built["metadata"]["target_wordpieces"] == with_context[k]["metadata"]["target_wordpieces"]
