"""The spaCy component `sinet`: the Extractor's entities and relations on the Doc, by characters;
batching, sentences, saving and loading, DocBin and multiprocessing."""
import json
import pickle
import shutil
import subprocess
import sys
import textwrap

import pytest
import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin
from transformers import AutoTokenizer

from conftest import REPO, TINY_BERT
from sinet_allen.predictors.extraction import load_predictor
from sinet_allen.spacy_pipeline import SinetComponent, relations_of

TEXTS = [
    "We compare hidden Markov models with support vector machines. They are used for tagging.",
    "",
    "Kernel methods work  well.\nSo do neural networks!",
    "Statistical machine translation systems are evaluated with the BLEU metric.",
]
WORDS = ("parser", "tagging", "we", "propose", "a", "new", "method", "for", "entity", "recognition",
         "based", "on", "random", "fields", "and", "semantic", "role", "labeling")


def many_texts(count: int):
    """`count` texts of 1 to 3 sentences of 3 to 11 words, as a generator."""
    for k in range(count):
        sentences = [" ".join(WORDS[(k * 7 + s * 3 + w) % len(WORDS)] for w in range(3 + (k + s) % 9)).capitalize()
                     + "." for s in range(1 + k % 3)]
        yield " ".join(sentences)


def annotations(doc: Doc, key: str = "sinet"):
    """What the component wrote on a Doc, comparable across Docs and processes."""
    group = doc.spans[key]
    return {"entities": [[span.label_, span.start_char, span.end_char, score]
                         for span, score in zip(group, group.attrs["scores"])],
            # [head, tail, label, score]; tuples once read back by DocBin
            "relations": [list(row) for row in doc.user_data["sinet_relations"][key]]}


def graded_pipeline(archive, **config) -> Language:
    """A blank English pipeline with the component on the graded fixture model, which calls nearly
    every span a Method; with a relation threshold of 0 the three best spans of a sentence are
    related by every type."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": str(archive), "relation_threshold": 0.0, **config})
    nlp.get_pipe("sinet").extractor.predictor.model.max_relation_entities = 3
    return nlp


@pytest.fixture(scope="module")
def nlp(graded_archive) -> Language:
    return graded_pipeline(graded_archive)


def test_the_doc_holds_the_extractors_entities_and_relations(nlp):
    extractor = nlp.get_pipe("sinet").extractor
    for text in TEXTS:
        doc, expected = nlp(text), extractor.extract(text)
        group = doc.spans["sinet"]
        assert [[span.label_, span.start_char, span.end_char, score] for span, score in zip(group, group.attrs["scores"])] \
            == [[e["type"], e["char_start"], e["char_end"], e["score"]] for e in expected["entities"]]
        assert [span.text for span in group] == [e["text"] for e in expected["entities"]]
        relations = doc._.sinet_relations
        assert [[r.label, r.score] for r in relations] == [[r["type"], r["score"]] for r in expected["relations"]]
        for relation, row in zip(relations, expected["relations"]):
            assert relation.head is not None and relation.head == group[row["head"]]
            assert relation.tail == group[row["tail"]]
    assert len(nlp(TEXTS[0]).spans["sinet"]) > 0 and len(nlp(TEXTS[0])._.sinet_relations) > 0


def test_entities_land_on_the_users_tokens_by_characters(graded_archive):
    """A whitespace tokenizer keeps "state-of-the-art" one token where the model sees seven words:
    an entity edge inside that token takes in the whole token."""
    nlp = graded_pipeline(graded_archive)
    nlp.tokenizer = lambda text: Doc(nlp.vocab, words=text.split(" "))
    text = "Our state-of-the-art tagger wins."
    doc = nlp(text)
    expected = nlp.get_pipe("sinet").extractor.extract(text)["entities"]
    assert [token.text for token in doc] == ["Our", "state-of-the-art", "tagger", "wins."]
    spans = doc.spans["sinet"]
    assert len(spans) == len(expected) > 0
    inside_a_token = 0
    for span, entity in zip(spans, expected):
        start, end = entity["char_start"], entity["char_end"]
        # The span is exactly the tokens that hold one of the entity's characters.
        assert [token.i for token in doc if token.idx < end and token.idx + len(token) > start] \
            == list(range(span.start, span.end))
        inside_a_token += (span.start_char, span.end_char) != (start, end)
    assert inside_a_token > 0  # e.g. "art tagger" became "state-of-the-art tagger"


def test_pipe_over_a_generator_equals_one_call_per_text_in_order(nlp):
    one_by_one = [annotations(nlp(text)) for text in many_texts(100)]
    piped = list(nlp.pipe(many_texts(100), batch_size=16))
    assert [doc.text for doc in piped] == list(many_texts(100))
    assert [annotations(doc) for doc in piped] == one_by_one
    assert sum(len(doc.spans["sinet"]) for doc in piped) > 100


def test_pipe_pools_the_docs_of_a_batch_into_the_predictors_batches(nlp, monkeypatch):
    predictor = nlp.get_pipe("sinet").extractor.predictor
    calls = []
    original = predictor.predict_batch_json
    monkeypatch.setattr(predictor, "predict_batch_json",
                        lambda inputs, batch_size: calls.append((len(inputs), batch_size)) or original(inputs, batch_size))
    list(nlp.pipe(many_texts(10), batch_size=4))
    assert calls == [(4, 32), (4, 32), (2, 32)]


def test_decoding_options_reach_the_model(graded_archive):
    flat = graded_pipeline(graded_archive, overlapping_entities=False, relation_threshold=0.9,
                          inference_precision="bfloat16")
    predictor = flat.get_pipe("sinet").extractor.predictor
    assert (predictor.decoding.overlapping_entities, predictor.decoding.relation_threshold) == (False, 0.9)
    assert predictor.model.inference_precision == "bfloat16"
    doc = flat(TEXTS[0])
    tokens = [token for span in doc.spans["sinet"] for token in range(span.start, span.end)]
    assert len(tokens) == len(set(tokens)) > 0  # flat: no token in two entities


def test_a_wrong_decoding_option_is_refused_when_the_pipe_is_added(graded_archive):
    with pytest.raises(ValueError, match="relation_threshold must be a number from 0 to 1, got 2"):
        graded_pipeline(graded_archive, relation_threshold=2)


def test_set_ents_writes_entities_that_do_not_overlap(graded_archive):
    nested = graded_pipeline(graded_archive, set_ents=True)
    doc = nested(TEXTS[0])
    group = doc.spans["sinet"]
    assert len(doc.ents) > 0 and len(group) > len(doc.ents)  # the span group keeps the overlaps
    assert set(doc.ents) <= set(group)
    covered = [token for entity in doc.ents for token in range(entity.start, entity.end)]
    assert len(covered) == len(set(covered))
    # The longest entities win: no entity of the group lies outside doc.ents unless it overlaps a longer one.
    for span in group:
        if span not in doc.ents:
            assert any(entity.start < span.end and span.start < entity.end and len(entity) >= len(span)
                       for entity in doc.ents)


def test_the_docs_sentences_from_an_upstream_pipe_are_used_and_kept(graded_archive):
    nlp = graded_pipeline(graded_archive)

    @Language.component("split_before_with")
    def split_before_with(doc):
        for token in doc:
            token.is_sent_start = token.i == 0 or token.text == "with"
        return doc

    nlp.add_pipe("split_before_with", first=True)
    text = "We compare hidden Markov models with support vector machines today."
    doc = nlp(text)
    assert [sentence.text for sentence in doc.sents] == ["We compare hidden Markov models",
                                                         "with support vector machines today."]
    boundary = doc[5].idx
    spans = doc.spans["sinet"]
    assert any(span.end_char <= boundary for span in spans) and any(span.start_char >= boundary for span in spans)
    assert all(span.end_char <= boundary or span.start_char >= boundary for span in spans)  # none crosses
    # The same as the predictor's result for those two sentences.
    sentences = [[token.text for token in sentence] for sentence in doc.sents]
    expected = nlp.get_pipe("sinet").extractor.predictor.predict_json({"sentences": sentences})
    assert [(span.start, span.end, span.label_) for span in spans] \
        == [(e["start"], e["end"], e["type"]) for e in expected["entities"]]


def test_a_sentencizers_sentences_are_kept(graded_archive):
    text = "Kernel methods work. So do neural networks! Really?"
    sentencizer = spacy.blank("en")
    sentencizer.add_pipe("sentencizer")
    before = [sentence.text for sentence in sentencizer(text).sents]
    sentencizer.add_pipe("sinet", config={"archive": str(graded_archive)})
    doc = sentencizer(text)
    assert [sentence.text for sentence in doc.sents] == before == ["Kernel methods work.", "So do neural networks!",
                                                                   "Really?"]
    assert len(doc.spans["sinet"]) > 0


def test_a_sentence_longer_than_the_encoder_is_predicted_with_max_length(graded_archive):
    nlp = graded_pipeline(graded_archive, max_length=512)
    text = " ".join(["tagging"] * 300 + ["recognition"] * 300) + "."
    assert len(AutoTokenizer.from_pretrained(str(TINY_BERT)).tokenize(text)) > 512  # over the encoder's limit
    doc = nlp(text)
    spans = doc.spans["sinet"]
    assert max(span.end for span in spans) >= len(doc) - 1  # entities up to the end of the sentence


def test_docbin_and_to_bytes_keep_entities_scores_and_relations(nlp):
    docs = list(nlp.pipe(TEXTS))
    store = DocBin(store_user_data=True)
    for doc in docs:
        store.add(doc)
    loaded = list(DocBin().from_bytes(store.to_bytes()).get_docs(spacy.blank("en").vocab))
    assert [annotations(doc) for doc in loaded] == [annotations(doc) for doc in docs]
    copy = Doc(nlp.vocab).from_bytes(docs[0].to_bytes())
    assert [(r.head.text, r.tail.text, r.label, r.score) for r in copy._.sinet_relations] \
        == [(r.head.text, r.tail.text, r.label, r.score) for r in docs[0]._.sinet_relations] != []


def test_pipe_with_two_processes_gives_the_same_docs(nlp):
    texts = list(many_texts(12))
    together = [annotations(doc) for doc in nlp.pipe(texts, batch_size=4, n_process=2)]
    assert together == [annotations(doc) for doc in nlp.pipe(texts, batch_size=4)]
    assert all(rows for rows in (entry["relations"] for entry in together))


def test_a_pickled_component_leaves_the_model_behind_and_reloads_it(nlp):
    component = nlp.get_pipe("sinet")
    pickled = pickle.dumps(component)
    assert len(pickled) < 10_000  # the options, not the model
    copy = pickle.loads(pickled)
    assert isinstance(copy, SinetComponent) and copy._extractor is None
    doc = copy(nlp.make_doc(TEXTS[3]))
    assert annotations(doc)["entities"] == annotations(nlp(TEXTS[3]))["entities"]


def test_a_saved_pipeline_loads_in_a_fresh_process_and_predicts_the_same(graded_archive, tmp_path):
    archive = tmp_path / "moved" / "model.tar.gz"
    archive.parent.mkdir()
    shutil.copyfile(graded_archive, archive)
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("sinet", config={"archive": str(archive), "relation_threshold": 0.0, "spans_key": "found"})
    texts = ["Kernel methods beat SVMs.", "We use CRFs. They tag words."]
    expected = [annotations(doc, "found") for doc in nlp.pipe(texts)]
    nlp.to_disk(tmp_path / "pipeline")
    shutil.rmtree(archive.parent)  # the saved pipeline holds its own copy
    assert (tmp_path / "pipeline" / "sinet" / "model.tar.gz").is_file()
    script = textwrap.dedent(f"""
        import json, spacy, sinet_allen
        nlp = spacy.load({str(tmp_path / "pipeline")!r})
        print(json.dumps([{{"entities": [[s.label_, s.start_char, s.end_char, score] for s, score in
                                         zip(doc.spans["found"], doc.spans["found"].attrs["scores"])],
                           "relations": doc.user_data["sinet_relations"]["found"]}}
                          for doc in nlp.pipe({texts!r})]))
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.splitlines()[-1]) == expected
    assert sum(len(entry["relations"]) for entry in expected) > 0


def test_from_disk_names_a_folder_without_the_archive(tmp_path):
    component = SinetComponent("sinet", "model.tar.gz")
    with pytest.raises(ValueError, match="not the folder of a sinet component"):
        component.from_disk(tmp_path)


def test_relations_of_one_key_among_several(nlp, graded_archive):
    other = spacy.blank("en")
    other.add_pipe("sinet", name="first", config={"archive": str(graded_archive), "spans_key": "a"})
    other.add_pipe("sinet", name="second", config={"archive": str(graded_archive), "spans_key": "b",
                                                    "relation_threshold": 0.0})
    for name in ("first", "second"):
        other.get_pipe(name).extractor.predictor.model.max_relation_entities = 3
    doc = other(TEXTS[3])
    assert relations_of(doc, "a") == []  # the archive's threshold: no relation of this model
    assert relations_of(doc, "b") == doc._.sinet_relations != []
    assert all(r.head in doc.spans["b"] for r in relations_of(doc, "b"))


def test_load_predictor_applies_overrides(graded_archive):
    predictor = load_predictor(graded_archive, overrides={"model.relation_threshold": 0.25})
    assert predictor.model.relation_threshold == 0.25


def test_pipe_hands_a_failed_batch_to_spacys_error_handler(tmp_path):
    nlp = spacy.blank("en")
    nlp.add_pipe("sinet", config={"archive": str(tmp_path / "missing.tar.gz")})  # loaded, and failing, on first use
    with pytest.raises(FileNotFoundError, match="missing.tar.gz"):  # spaCy's default handler raises
        list(nlp.pipe(["One."]))
    seen = []
    nlp.set_error_handler(lambda name, component, docs, error: seen.append((name, [d.text for d in docs], type(error))))
    assert list(nlp.pipe(["One.", "Two.", "Three."], batch_size=2)) == []  # a handler that returns drops the Docs
    assert seen == [("sinet", ["One.", "Two."], FileNotFoundError), ("sinet", ["Three."], FileNotFoundError)]
