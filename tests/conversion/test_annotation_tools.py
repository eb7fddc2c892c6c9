"""Reading brat, doccano and Label Studio: what each annotation becomes, word for word."""
from pathlib import Path

from sinet_allen.conversion.annotated_text import AnnotatedText, CharEntity, to_sentences
from sinet_allen.conversion.convert import read_corpus
from sinet_allen.conversion.report import ConversionReport
from sinet_allen.schema import Entity, Relation
from tests.conftest import FIXTURES


def corpus(path: Path, format: str):
    report = ConversionReport()
    read = read_corpus(path, format, report)
    return {(s.doc_key, s.sentence_index): s for s in read.sentences}, read.symmetric, report


def words(sentence, entity):
    return " ".join(sentence.tokens[entity.start:entity.end])


def test_brat_nested_overlapping_and_discontinuous_entities():
    sentences, _, report = corpus(FIXTURES / "brat", "brat")
    curie = sentences["curie", 0]
    assert [(e.type, words(curie, e)) for e in curie.entities] == [
        ("Person", "Marie Curie"), ("Organization", "University of Paris"), ("Location", "Paris")]  # nested
    acme = sentences["acme", 1]
    assert {(e.type, words(acme, e)) for e in acme.entities} >= {
        ("Organization", "New York Times"), ("Location", "Times Square")}  # overlapping
    cancer = sentences["cancer", 0]
    assert [(e.type, words(cancer, e)) for e in cancer.entities][:2] == [
        ("Disease", "breast cancer"), ("Disease", "Ovarian and breast cancer")]  # the full extent
    assert report.changed["discontinuous entities taken as their full extent"] == [
        f"{FIXTURES / 'brat/cancer.ann'}, line 2: Disease 'Ovarian cancer' -> 'Ovarian and breast cancer'"]
    assert cancer.relations == [Relation(2, 0, "Treats"), Relation(2, 1, "Treats")]


def test_brat_events_attributes_notes_are_counted_and_triggers_kept():
    sentences, _, report = corpus(FIXTURES / "brat", "brat")
    acme = sentences["acme", 0]
    assert [(e.type, words(acme, e)) for e in acme.entities] == [
        ("Organization", "Acme Corp"), ("Organization", "Beta Ltd"), ("Acquisition", "acquired")]
    assert acme.relations == []  # the event is not a relation; R2 has the event as argument
    assert report.counts == {"brat events (their trigger entities are kept)": 1, "brat attributes": 1,
                             "brat notes": 1}
    assert report.dropped["relations with an event argument"] == [f"{FIXTURES / 'brat/acme.ann'}, line 15: Buyer"]


def test_brat_cross_sentence_relations_are_dropped_and_named_equivalences_symmetric():
    sentences, symmetric, report = corpus(FIXTURES / "brat", "brat")
    assert symmetric == {"Same_as"}
    assert sentences["acme", 1].relations[-1] == Relation(3, 4, "Same_as")  # Beta Ltd = the Beta company
    dropped = report.dropped["relations across sentences"]
    assert len(dropped) == 4
    assert f"{FIXTURES / 'brat/curie.ann'}, line 8: Discovered T1 -> T5 (sentences 0 and 1)" in dropped


def test_brat_entity_edge_inside_a_token_and_non_ascii_text():
    sentences, _, report = corpus(FIXTURES / "brat", "brat")
    first, second = sentences["muenchen", 0], sentences["muenchen", 1]
    assert first.tokens[:2] == ["Zoë", "Müller"] and words(first, first.entities[0]) == "Zoë Müller"
    assert second.tokens[3:5] == ["IL-2", "R"]  # spaCy's "IL-2R", cut where the entity ends
    assert Entity(3, 4, "Substance") in second.entities
    assert words(second, second.entities[-1]) == "Café Ö - Labs"
    assert report.changed["tokens split at an entity edge inside them"] == ["muenchen: 'IL-2R' at character 55"]


def test_entities_crossing_the_sentence_splitter_merge_sentences_and_edges_are_trimmed():
    text = "We saw it. Then it left."
    document = AnnotatedText("d", text, [CharEntity("a", text.index("it."), text.index("Then") + 4, "X", "d:1"),
                                         CharEntity("b", 2, 7, "Y", "d:2")])
    report = ConversionReport()
    [sentence] = to_sentences(document, report)
    assert sentence.tokens == ["We", "saw", "it", ".", "Then", "it", "left", "."]
    assert sentence.entities == [Entity(2, 5, "X"), Entity(1, 2, "Y")]  # " saw " trimmed to "saw"
    assert list(report.changed) == ["entities with whitespace at an edge, trimmed",
                                    "sentences merged because an entity crosses the sentence splitter's boundary"]


def test_doccano_relation_and_sequence_labelling_exports():
    sentences, symmetric, report = corpus(FIXTURES / "doccano/export.jsonl", "doccano")
    first, second = sentences["7", 0], sentences["8", 0]
    assert [(e.type, words(first, e)) for e in first.entities] == [
        ("Person", "Zoë Müller"), ("Organization", "Siemens AG"), ("Location", "München")]
    assert first.relations == [Relation(0, 1, "Works_for"), Relation(1, 2, "Located_in")]
    assert [(e.type, words(second, e)) for e in second.entities] == [
        ("Organization", "Acme Corp"), ("Person", "Jürgen Weiß")]
    assert symmetric == set() and not report.dropped


def test_label_studio_directions_cancelled_annotations_and_other_results():
    sentences, symmetric, report = corpus(FIXTURES / "label_studio/export.json", "label-studio")
    first = sentences["21", 0]
    assert [words(first, e) for e in first.entities] == ["Marie Curie", "Pierre Curie", "Paris"]
    assert first.relations == [Relation(0, 1, "Spouse"), Relation(1, 2, "Lives_in")]  # "left" swapped
    assert symmetric == {"Spouse"}  # direction "bi"
    assert report.counts == {"Label Studio annotations beyond a task's first (not converted)": 1,
                             "Label Studio results of type 'choices' (not converted)": 1}
    assert len(report.dropped["relations across sentences"]) == 1
