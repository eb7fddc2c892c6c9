"""The SINET model: training, saving and loading, batch consistency, every ablation and Table-3
variant through config overrides, and the inference-time guarantees (chunking, candidate cap)."""
import json
import logging

import pytest
import torch
from allennlp.common import Params
from allennlp.common.testing import ModelTestCase
from allennlp.common.checks import ConfigurationError
from allennlp.data import Batch, DatasetReader, Instance

from conftest import FIXTURE_CONFIG, FIXTURE_DATA, TINY_BERT
from sinet_allen.dataset_readers.joint_ie import JointIEReader
from sinet_allen.models.joint_ie_model import BFLOAT16_COPY
from sinet_allen.models.sinet import agent_mask
from sinet_allen.modules.fast_dropout import FastDropout
from allennlp.modules.seq2vec_encoders import BagOfEmbeddingsEncoder
from allennlp.modules.span_extractors import EndpointSpanExtractor, MaxPoolingSpanExtractor
from sinet_allen.modules.max_pooler import MaxPooler
from sinet_allen.modules.range_span_extractors import (
    RangeMaxSpanExtractor,
    RangeMeanSpanExtractor,
    RangeSumSpanExtractor,
)
from sinet_allen.modules.task_projection import IdentityProjection, LinearTaskProjection

TRAIN = FIXTURE_DATA / "spert" / "train.json"
TEST = FIXTURE_DATA / "spert" / "test.json"
DEV = FIXTURE_DATA / "spert" / "dev.json"

# Table 4 ablations and Table 3 / Figure 3 variants, each a config override of the full model
# (AllenNLP overrides: a dotted key replaces one entry, a nested object would replace the subtree).
VARIANTS = {
    "base": {"model.task_projection": {"type": "identity"}, "model.interaction": None},
    "base_tap": {"model.interaction": None},
    "ctam_ner": {"model.interaction.targets": "ner"},
    "ctam_re": {"model.interaction.targets": "re"},
    "heads_1": {"model.interaction.num_heads": 1},
    "heads_4": {"model.interaction.num_heads": 4},
    "layers_2": {"model.interaction.num_layers": 2},
    "span_sum": {"model.span_extractor": {"type": "range_sum"}},
    "span_mean": {"model.span_extractor": {"type": "range_mean"}},
    "context_sum": {"model.context_extractor": {"type": "range_sum"}},
    "context_mean": {"model.context_extractor": {"type": "range_mean"}},
    "agent_max": {"model.interactive_agent": {"type": "max_pooler"}},
    "agent_mean": {"model.interactive_agent": {"type": "boe", "averaged": True}},
    # AllenNLP's own components in place of ours.
    "allennlp_endpoint_boe": {"model.span_extractor": {"type": "endpoint", "combination": "x,y"},
                              "model.context_extractor": {"type": "max_pooling"},
                              "model.interactive_agent": {"type": "boe"}},
    "no_layer_norm": {"model.interaction.layer_norm": False},
    "bfloat16_training": {"model.training_precision": "bfloat16"},
}

# What each override must have built (so a silently ignored override fails the test).
EXPECTED = {
    "base": lambda m: isinstance(m.task_projection, IdentityProjection) and m.interaction is None,
    "base_tap": lambda m: isinstance(m.task_projection, LinearTaskProjection) and m.interaction is None,
    "ctam_ner": lambda m: (m.interaction.update_entity, m.interaction.update_relation) == (True, False),
    "ctam_re": lambda m: (m.interaction.update_entity, m.interaction.update_relation) == (False, True),
    "heads_1": lambda m: m.interaction.layers[0].num_heads == 1,
    "heads_4": lambda m: m.interaction.layers[0].num_heads == 4,
    "layers_2": lambda m: len(m.interaction.layers) == 2,
    "span_sum": lambda m: extractors(m) == (RangeSumSpanExtractor, RangeMaxSpanExtractor),
    "span_mean": lambda m: extractors(m) == (RangeMeanSpanExtractor, RangeMaxSpanExtractor),
    "context_sum": lambda m: extractors(m) == (RangeMaxSpanExtractor, RangeSumSpanExtractor),
    "context_mean": lambda m: extractors(m) == (RangeMaxSpanExtractor, RangeMeanSpanExtractor),
    "agent_max": lambda m: isinstance(m.interactive_agent, MaxPooler),
    "agent_mean": lambda m: isinstance(m.interactive_agent, BagOfEmbeddingsEncoder) and averages(m.interactive_agent),
    # The endpoint extractor's [start ; end] doubles the span size, and the classifiers follow.
    "allennlp_endpoint_boe": lambda m: (
        extractors(m) == (EndpointSpanExtractor, MaxPoolingSpanExtractor)
        and isinstance(m.interactive_agent, BagOfEmbeddingsEncoder) and not averages(m.interactive_agent)
        and m.entity_classifier.in_features == 3 * m.embedder.get_output_dim() + m.width_embedding.embedding_dim
    ),
    "no_layer_norm": lambda m: isinstance(m.interaction.layers[0].norm, torch.nn.Identity),
    "bfloat16_training": lambda m: m.training_precision == "bfloat16",
}


def extractors(model) -> tuple:
    return type(model.span_extractor), type(model.context_extractor)


def averages(agent) -> bool:
    """Whether a bag-of-embeddings agent averages (rather than sums) over the sentence."""
    return bool((agent(torch.ones(1, 2, agent.get_input_dim())) == 1).all())


@pytest.fixture
def same_negatives_on_every_pass(monkeypatch):
    """The training reader draws fresh negatives on every pass over a file (by design), but
    `ensure_model_can_train_save_and_load` reads the validation file twice, once per model, and
    requires identical batches: pin the pass counter so both reads draw the same negatives."""
    monkeypatch.setattr(JointIEReader, "pass_number", property(lambda self: 0, lambda self, value: None),
                        raising=False)


pytestmark = pytest.mark.usefixtures("one_thread")


class TestSinet(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        self.set_up_model(FIXTURE_CONFIG, TRAIN)

    # --- helpers --------------------------------------------------------------------------------

    def variant_config(self, overrides: dict) -> str:
        """The fixture config with `overrides` applied, written out as a plain JSON config."""
        params = Params.from_file(str(FIXTURE_CONFIG), params_overrides=json.dumps(overrides))
        # Deterministic batches for the save-and-load comparison (no bucket shuffling or noise).
        params["data_loader"]["batch_sampler"]["shuffle"] = False
        path = self.TEST_DIR / "variant.json"
        path.write_text(json.dumps(params.as_dict(quiet=True)))
        return str(path)

    def build(self, overrides: dict = None):
        config = self.variant_config(overrides or {})
        self.set_up_model(config, TRAIN)
        return config

    def evaluation_instances(self, *paths):
        params = Params.from_file(str(FIXTURE_CONFIG))
        reader = DatasetReader.from_params(params["validation_dataset_reader"])
        return reader, [instance for path in paths for instance in reader.read(str(path))]

    def tokens_of_test_sentences(self, count: int = 3):
        """The indexed wordpieces of the first `count` test sentences, as one batch."""
        _, instances = self.evaluation_instances(TEST)
        batch = Batch(instances[:count])
        batch.index_instances(self.model.vocab)
        return batch.as_tensor_dict()["tokens"]

    def ensure_batch_consistency(self):
        # An untrained model keeps most spans and predicts about half of all pairs; decoding tens
        # of thousands of relations would dominate the run time. (The default cap is covered by
        # test_predictions_do_not_depend_on_the_batch_size.)
        self.model.max_relation_entities = 20
        # Scores are floats that padding changes in the last bits; they are compared with a
        # tolerance below, the decoded triples exactly by the base method.
        self.ensure_batch_predictions_are_consistent(keys_to_ignore=("entities", "relations"))
        self.model.eval()
        singles = [self.model.forward_on_instance(instance) for instance in self.instances]
        batched = self.model.forward_on_instances(self.instances)
        for single, batch in zip(singles, batched):
            assert_same_predictions(single, batch)

    # --- training, saving and loading -----------------------------------------------------------

    @pytest.mark.usefixtures("same_negatives_on_every_pass")
    def test_sinet_can_train_save_and_load(self):
        config = self.build()
        self.ensure_model_can_train_save_and_load(config)

    def test_batch_predictions_are_consistent(self):
        self.ensure_batch_consistency()

    @pytest.mark.usefixtures("same_negatives_on_every_pass")
    @pytest.mark.parametrize("variant", sorted(VARIANTS))
    def test_variant_can_train_save_and_load(self, variant):
        # An untrained model keeps most spans and predicts about half of all pairs, and decoding
        # tens of thousands of relations dominates the run time: fewer candidates keep it quick.
        # One epoch is enough to train, save and load (the full config runs two).
        config = self.build({**VARIANTS[variant], "model.max_relation_entities": 20, "trainer.num_epochs": 1})
        assert EXPECTED[variant](self.model), f"the {variant} override did not build what it claims"
        self.ensure_model_can_train_save_and_load(config)
        self.ensure_batch_consistency()

    # --- distributed training: every parameter in every step's loss ----------------------------

    @pytest.mark.parametrize("sentences", [[4, 9], [2]], ids=["no_pairs", "no_spans"])
    def test_every_parameter_gets_a_gradient_from_a_batch_without_pairs(self, sentences):
        """DistributedDataParallel without its search for unused parameters needs a gradient for
        every parameter in every step: also from a batch without relation pairs (sentences 4 and 9
        have no relation, and no negatives are drawn) or without any span (sentence 2 is empty)."""
        overrides = json.dumps({"dataset_reader.neg_relation_count": 0})
        reader = DatasetReader.from_params(Params.from_file(str(FIXTURE_CONFIG), overrides)["dataset_reader"])
        instances = list(reader.read(str(TRAIN)))
        batch = Batch([instances[index] for index in sentences])
        batch.index_instances(self.model.vocab)
        tensors = batch.as_tensor_dict()
        assert tensors["relation_pairs"].size(1) == 0
        assert (tensors["entity_spans"].size(1) == 0) == (sentences == [2])
        model = self.model
        model.train()
        model(**tensors)["loss"].backward()
        assert [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None] == []
        # Nothing to learn about relations: their classifier takes part with a gradient of zero.
        assert not model.relation_classifier.weight.grad.any() and not model.relation_classifier.bias.grad.any()
        assert model.entity_classifier.weight.grad.any() != (sentences == [2])

    def test_the_encoder_pooler_is_not_built(self):
        # SINET never reads it, so it would be a parameter without gradient in every step.
        assert self.model.embedder.token_embedder_tokens.transformer_model.pooler is None

    # --- interactive agent ------------------------------------------------------------------------

    def test_the_agent_size_sets_the_classifiers_and_must_match_an_interaction(self):
        cnn = {"type": "cnn", "num_filters": 3, "ngram_filter_sizes": [1], "output_dim": 7}
        self.build({**VARIANTS["base_tap"], "model.interactive_agent": cnn})
        span_size = self.model.embedder.get_output_dim() + self.model.width_embedding.embedding_dim
        assert self.model.entity_classifier.in_features == span_size + 7
        with pytest.raises(ConfigurationError, match=r"agents of the encoder's size \(32\), but the "
                                                     r"interactive_agent gives 7 features"):
            self.build({"model.interactive_agent": cnn})

    # --- ablations ------------------------------------------------------------------------------

    def test_base_has_no_tap_or_ctam_parameters(self):
        full = {name for name, _ in self.model.named_parameters()}
        self.build(VARIANTS["base"])
        base = {name for name, _ in self.model.named_parameters()}
        assert not [name for name in base if name.startswith(("task_projection.", "interaction."))]
        assert base < full
        assert {name.split(".")[0] for name in full - base} == {"task_projection", "interaction"}
        self.build(VARIANTS["base_tap"])
        base_tap = {name for name, _ in self.model.named_parameters()}
        assert {name.split(".")[0] for name in full - base_tap} == {"interaction"}
        assert {name for name in base_tap - base} == {"task_projection.entity.weight",
                                                      "task_projection.relation.weight"}

    @pytest.mark.parametrize("targets, entity_gets_it, relation_gets_it",
                             [("ner", True, False), ("re", False, True), ("both", True, True)])
    def test_ctam_feeds_the_attended_agent_to_the_targeted_classifiers(
        self, targets, entity_gets_it, relation_gets_it
    ):
        self.build({"model.interaction.targets": targets})
        model = self.model
        no_dropout(model)  # so the inputs can be compared; training mode runs both classifiers as modules
        classifier_inputs = {"entity": [], "relation": []}
        interaction_outputs = []
        hooks = [
            model.entity_classifier.register_forward_hook(
                lambda module, inputs, output: classifier_inputs["entity"].append(inputs[0])),
            model.relation_classifier.register_forward_hook(
                lambda module, inputs, output: classifier_inputs["relation"].append(inputs[0])),
            model.interaction.register_forward_hook(
                lambda module, inputs, output: interaction_outputs.append((inputs[0], output))),
        ]
        try:
            model(**self.dataset.as_tensor_dict())
        finally:
            for hook in hooks:
                hook.remove()
        (before, after), = interaction_outputs
        # The agent is the last `dim` features of each classifier input.
        entity_agent = classifier_inputs["entity"][0][:, 0, -before.entity_agent.size(-1):]
        relation_agent = classifier_inputs["relation"][0][:, 0, -before.relation_agent.size(-1):]
        # Each classifier read the agent the interaction handed it: the attended one where
        # targeted, else the projected [CLS] of TAP unchanged.
        torch.testing.assert_close(entity_agent, after.entity_agent)
        torch.testing.assert_close(relation_agent, after.relation_agent)
        assert torch.equal(after.entity_agent, before.entity_agent) != entity_gets_it
        assert torch.equal(after.relation_agent, before.relation_agent) != relation_gets_it
        tokens = self.dataset.as_tensor_dict()["tokens"]
        entity_cls, relation_cls = model.task_projection(model.embedder(tokens))
        if not entity_gets_it:
            torch.testing.assert_close(entity_agent, entity_cls[:, 0])
        if not relation_gets_it:
            torch.testing.assert_close(relation_agent, relation_cls[:, 0])

        # The same by gradients: the CTAM weights get gradient from a classifier's output only
        # where that classifier reads the attended agent.
        ctam = [p for name, p in model.named_parameters() if name.startswith("interaction.")]
        for name, gets_it in (("entity", entity_gets_it), ("relation", relation_gets_it)):
            classifier = getattr(model, f"{name}_classifier")
            outputs = [classifier(features) for features in classifier_inputs[name]]
            # Both directions run in one CTAM call, so the graph is shared: keep it for the second.
            gradients = torch.autograd.grad(sum(output.sum() for output in outputs), ctam,
                                            allow_unused=True, retain_graph=True)
            reached = [g is not None and bool(g.abs().sum() > 0) for g in gradients]
            assert all(reached) if gets_it else not any(reached), (name, targets, reached)

    def test_entity_logits_are_the_same_in_training_and_evaluation_without_dropout(self):
        # Evaluation splits the classifier to apply the agent's weights once per sentence.
        model = self.model
        no_dropout(model)
        logits = []
        original = model._entity_loss

        def recording(entity_logits, *args):
            logits.append(entity_logits)
            return original(entity_logits, *args)

        model._entity_loss = recording
        model(**self.dataset.as_tensor_dict())
        model.eval()
        model(**self.dataset.as_tensor_dict())
        training, evaluation = logits
        torch.testing.assert_close(evaluation, training)
        assert training.abs().max() > 0.01

    def test_relation_logits_are_the_same_in_training_and_evaluation_without_dropout(self):
        # Evaluation splits the relation classifier by input: heads, context, tails, agent.
        model = self.model
        no_dropout(model)
        calls = []
        original = model._relation_logits

        def recording(inputs, pairs):
            calls.append((inputs, pairs, original(inputs, pairs)))
            return calls[-1][2]

        model._relation_logits = recording
        model(**self.dataset.as_tensor_dict())
        inputs, pairs, training = calls[0]
        assert (pairs[..., 0] >= 0).sum() > 10  # the training pairs of the fixture
        model.eval()
        torch.testing.assert_close(original(inputs, pairs), training)
        assert training.abs().max() > 0.01

    @pytest.mark.parametrize("targets, from_entity, from_relation",
                             [("ner", True, False), ("re", False, True), ("both", True, True)])
    def test_ctam_gradients_come_from_the_targeted_loss(self, targets, from_entity, from_relation):
        """Under targets=ner the CTAM weights learn from the entity loss only, under targets=re
        from the relation loss only."""
        self.build({"model.interaction.targets": targets})
        model = self.model
        no_dropout(model)
        losses = {}
        for name in ("entity", "relation"):
            original = getattr(model, f"_{name}_loss")

            def recording(*args, _name=name, _original=original):
                losses[_name] = _original(*args)
                return losses[_name]

            setattr(model, f"_{name}_loss", recording)
        total = model(**self.dataset.as_tensor_dict())["loss"]
        torch.testing.assert_close(total, losses["entity"] + losses["relation"])
        ctam = [p for name, p in model.named_parameters() if name.startswith("interaction.")]
        assert ctam
        for name, expected in (("entity", from_entity), ("relation", from_relation)):
            gradients = torch.autograd.grad(losses[name], ctam, allow_unused=True, retain_graph=True)
            reached = [g is not None and bool(g.abs().sum() > 0) for g in gradients]
            assert all(reached) if expected else not any(reached), (name, targets, reached)

    # --- cross-sentence context -----------------------------------------------------------------

    @pytest.mark.usefixtures("same_negatives_on_every_pass")
    @pytest.mark.parametrize("setting", ["target_only", "attend_to_context", "folded"])
    def test_context_window_can_train_save_and_load_and_is_batch_consistent(self, setting):
        # The fixture's SpERT records share their orig_id within a document, so they have context.
        overrides = {"dataset_reader.context_window": 16, "validation_dataset_reader.context_window": 16,
                     "model.max_relation_entities": 20, "trainer.num_epochs": 1}
        if setting == "attend_to_context":
            overrides["model.attend_to_context"] = True
        if setting == "folded":  # windows longer than 24 wordpieces are encoded in segments
            overrides.update({"dataset_reader.max_length": 24, "validation_dataset_reader.max_length": 24,
                              "model.embedder.token_embedders.tokens.max_length": 24})
        config = self.build(overrides)
        assert self.model.attend_to_context == (setting == "attend_to_context")
        targets = [instance["metadata"]["target_wordpieces"] for instance in self.instances]
        assert any(end - start + 2 < len(instance["tokens"]) for (start, end), instance in zip(targets, self.instances))
        if setting == "folded":
            assert max(len(instance["tokens"]) for instance in self.instances) > 24
        self.ensure_model_can_train_save_and_load(config)
        self.ensure_batch_consistency()

    def test_the_agents_read_the_target_sentence_unless_they_attend_to_the_context(self):
        mask = torch.ones(2, 8, dtype=torch.bool)
        mask[1, 6:] = False  # the second input is two wordpieces shorter
        windows = [{"target_wordpieces": (2, 5)}, {"target_wordpieces": (1, 3)}]
        target_only = [[0, 0, 1, 1, 1, 0, 0, 0], [0, 1, 1, 0, 0, 0, 0, 0]]
        whole_window = [[0, 1, 1, 1, 1, 1, 1, 0], [0, 1, 1, 1, 1, 0, 0, 0]]  # no [CLS], [SEP], padding
        assert agent_mask(mask, windows, attend_to_context=False).int().tolist() == target_only
        assert agent_mask(mask, [{}, {}], attend_to_context=False).int().tolist() == whole_window  # no window: the sentence
        assert agent_mask(mask, windows, attend_to_context=True).int().tolist() == whole_window

    # --- inference ------------------------------------------------------------------------------

    def test_predictions_do_not_depend_on_the_batch_size(self):
        _, instances = self.evaluation_instances(TEST, DEV)  # 8 sentences, two of them empty
        model = self.model
        model.eval()
        # Every span kept, whatever the random initialisation: plenty of entities and relations.
        with torch.no_grad():
            model.entity_classifier.bias[model.no_entity] = -10.0
        one_by_one = [model.forward_on_instances([instance])[0] for instance in instances]
        eight = [prediction for start in range(0, len(instances), 8)
                 for prediction in model.forward_on_instances(instances[start : start + 8])]
        assert len(one_by_one) == len(eight) == len(instances)
        # Not vacuous: there are entities and relations to disagree on.
        assert sum(len(p["entities"]) for p in eight) > 0
        assert sum(len(p["relations"]) for p in eight) > 0
        for single, batched in zip(one_by_one, eight):
            assert_same_predictions(single, batched)

    def test_a_batch_of_empty_sentences_predicts_nothing(self):
        reader, _ = self.evaluation_instances()
        model = self.model
        model.eval()
        outputs = model.forward_on_instances([reader.text_to_instance([]), reader.text_to_instance([])])
        assert [(o["entities"], o["relations"]) for o in outputs] == [([], []), ([], [])]

    def long_dense_instance(self, reader: JointIEReader, num_words: int = 100) -> Instance:
        words = "The convolutional encoder and the conditional random field decoder".split()
        return reader.text_to_instance([words[i % len(words)] for i in range(num_words)])

    def test_long_dense_sentence_with_small_max_pairs_chunks(self):
        reader, _ = self.evaluation_instances()
        instance = self.long_dense_instance(reader)
        model = self.model
        model.eval()
        model.max_pairs = 10 ** 9
        model.max_relation_entities = 40  # keeps the number of chunks (and the run time) small
        calls = []
        original = model._relation_logits

        def counting(inputs, pairs):
            calls.append(pairs.size(1))
            return original(inputs, pairs)

        model._relation_logits = counting
        whole = model.forward_on_instance(instance)
        assert len(calls) == 1
        calls.clear()
        model.max_pairs = 7
        chunked = model.forward_on_instance(instance)
        assert len(calls) == -(-40 * 40 // 7) and max(calls) == 7  # 40 x 40 pairs, 7 at a time
        assert len(whole["entities"]) > 100 and len(whole["relations"]) > 0
        assert_same_predictions(whole, chunked)

    def test_max_relation_entities_caps_the_candidates(self):
        reader, _ = self.evaluation_instances()
        instance = self.long_dense_instance(reader, num_words=12)
        model = self.model
        model.eval()
        pairs_seen = []  # per call, the wordpiece spans of each pair's head and tail
        original = model._relation_logits

        def recording(inputs, pairs):
            pairs_seen.append(inputs.wordpiece_spans[0][pairs[0]])
            return original(inputs, pairs)

        model._relation_logits = recording
        uncapped = model.forward_on_instance(instance)
        assert len(uncapped["entities"]) > 3
        assert model.max_relation_entities >= len(uncapped["entities"])
        assert pairs_seen[0].size(0) == len(uncapped["entities"]) ** 2

        spans = instance["entity_spans"].tensor.tolist()
        wordpiece_spans = [tuple(span) for span in instance["entity_wordpiece_spans"].tensor.tolist()]
        span_index = {tuple(span): index for index, span in enumerate(spans)}
        for cap in (3, 1, 0):
            pairs_seen.clear()
            model.max_relation_entities = cap
            capped = model.forward_on_instance(instance)
            assert sum(pairs.size(0) for pairs in pairs_seen) == cap * cap
            # The candidates are the `cap` best-scored entities; entity decisions do not change.
            assert capped["entities"] == uncapped["entities"]
            entities = capped["entities"]
            best = sorted(range(len(entities)), key=lambda i: -entities[i]["score"])[:cap]
            best_spans = {span_index[entities[i]["start"], entities[i]["end"]] for i in best}
            assert {wordpiece_spans.index(tuple(span)) for pairs in pairs_seen
                    for span in pairs.view(-1, 2).tolist()} == best_spans
            assert {index for r in capped["relations"] for index in (r["head"], r["tail"])} <= set(best)
            assert len(capped["relations"]) <= cap * (cap - 1) * model.num_relation_labels

    def test_flat_decoding_keeps_the_best_scored_of_overlapping_entities(self):
        self.build({"model.overlapping_entities": False})
        reader, _ = self.evaluation_instances()
        instance = self.long_dense_instance(reader, num_words=12)
        model = self.model
        model.eval()
        flat = model.forward_on_instance(instance)
        model.overlapping_entities = True
        overlapping = model.forward_on_instance(instance)

        def overlap(a, b):
            return a["start"] < b["end"] and b["start"] < a["end"]

        # An untrained model keeps many overlapping spans; greedy selection by score removes them.
        taken = []
        for entity in sorted(overlapping["entities"], key=lambda entity: -entity["score"]):
            if not any(overlap(entity, other) for other in taken):
                taken.append(entity)
        assert 1 < len(taken) < len(overlapping["entities"])
        assert flat["entities"] == sorted(taken, key=lambda entity: (entity["start"], entity["end"]))
        # Relation scores do not depend on the other candidates: the relations between taken
        # entities are exactly the ones predicted with overlaps allowed.
        def triples(output):
            spans = [(entity["start"], entity["end"]) for entity in output["entities"]]
            return {(spans[r["head"]], spans[r["tail"]], r["type"]) for r in output["relations"]}

        taken_spans = {(entity["start"], entity["end"]) for entity in taken}
        assert flat["relations"]
        assert triples(flat) == {t for t in triples(overlapping) if {t[0], t[1]} <= taken_spans}


    # --- initialisation and inference precision ------------------------------------------------

    def test_new_layers_start_as_bert_initialises_them(self):
        model = self.model
        assert model.width_embedding.weight.std().item() == pytest.approx(0.02, abs=0.004)
        for layer in (model.entity_classifier, model.relation_classifier):
            assert layer.weight.std().item() == pytest.approx(0.02, abs=0.004)
            assert not layer.bias.any()
        norm = model.interaction.layers[0].norm
        assert bool((norm.weight == 1).all()) and not norm.bias.any()
        # The encoder keeps its pretrained weights.
        encoder = model.embedder.token_embedder_tokens.transformer_model
        pretrained = type(encoder).from_pretrained(str(TINY_BERT))
        assert all(torch.equal(value, pretrained.state_dict()[name]) for name, value in encoder.state_dict().items())

    def test_an_initializer_in_the_config_applies_after_the_bert_initialisation(self):
        # The README's recipe for a task projection that starts as the identity.
        self.build({"model.initializer": {"regexes": [["task_projection\\..*weight", {"type": "eye"}]]}})
        identity = torch.eye(self.model.embedder.get_output_dim())
        assert torch.equal(self.model.task_projection.entity.weight, identity)
        assert torch.equal(self.model.task_projection.relation.weight, identity)
        # Everything else keeps the BERT-style start.
        assert self.model.relation_classifier.weight.std().item() == pytest.approx(0.02, abs=0.004)

    def test_every_dropout_is_fast_unless_switched_off(self):
        def dropout_kinds():
            return {type(module) for module in self.model.modules() if isinstance(module, torch.nn.Dropout)}

        assert dropout_kinds() == {FastDropout}  # the encoder's dropouts included
        self.build({"model.fast_dropout": False})
        assert dropout_kinds() == {torch.nn.Dropout}

    def test_bfloat16_inference_changes_only_the_encoder_outside_training(self):
        tokens = self.tokens_of_test_sentences()
        model = self.model
        saved = {name: value.clone() for name, value in model.state_dict().items()}
        model.eval()
        exact = model.encode(tokens)
        model.inference_precision = "bfloat16"
        approximate = model.encode(tokens)
        assert approximate.dtype == torch.float32 and approximate.shape == exact.shape
        assert not torch.equal(approximate, exact)
        assert (approximate - exact).abs().max() < 0.1 * exact.abs().max()
        # The bfloat16 copy is not part of the model's weights, which stay float32 and unchanged.
        state = model.state_dict()
        assert set(state) == set(saved) and all(torch.equal(state[name], saved[name]) for name in saved)
        # New weights make a new copy.
        with torch.no_grad():
            model.embedder.token_embedder_tokens.transformer_model.embeddings.word_embeddings.weight.mul_(2)
        model.load_state_dict(model.state_dict())
        assert not torch.equal(model.encode(tokens), approximate)
        # Training runs in its own precision (float32 by default) whatever the inference setting.
        model.train()
        assert BFLOAT16_COPY not in model.__dict__
        torch.manual_seed(0)
        training = model.encode(tokens)
        torch.manual_seed(0)
        assert torch.equal(training, model.embedder(tokens))

    def test_bfloat16_training_autocasts_the_encoder_and_keeps_float32_weights_and_gradients(self):
        tokens = self.tokens_of_test_sentences()
        model = self.model
        no_dropout(model)
        exact = model.encode(tokens)
        model.training_precision = "bfloat16"
        mixed = model.encode(tokens)
        assert mixed.dtype == torch.float32 and mixed.shape == exact.shape
        assert not torch.equal(mixed, exact)
        assert (mixed - exact).abs().max() < 0.1 * exact.abs().max()
        mixed.pow(2).sum().backward()
        encoder = model.embedder.token_embedder_tokens.transformer_model
        for name in ("embeddings.word_embeddings.weight", "encoder.layer.0.attention.self.query.weight"):
            weight = encoder.get_parameter(name)
            assert weight.dtype == weight.grad.dtype == torch.float32 and weight.grad.abs().sum() > 0, name
        # Outside training the inference precision applies: float32 by default.
        model.eval()
        assert torch.equal(model.encode(tokens), model.embedder(tokens))

    @pytest.mark.parametrize("setting, value, allowed", [
        ("inference_precision", "float16", "float32, bfloat16, int8"),
        ("training_precision", "int8", "float32, bfloat16"),  # int8 is for inference only
    ])
    def test_unknown_precision_is_refused(self, setting, value, allowed):
        with pytest.raises(ConfigurationError, match=f"{setting} must be one of {allowed}, not '{value}'"):
            self.build({f"model.{setting}": value})

    def test_a_symmetric_relation_that_is_no_relation_type_is_warned_of(self, caplog):
        # A misspelt name would leave the type meant decoded and scored as directed.
        with caplog.at_level(logging.WARNING, logger="sinet_allen"):
            self.build({"model.symmetric_relations": ["Compare", "Conjunction"]})
            assert "symmetric_relations" not in caplog.text
            self.build({"model.symmetric_relations": ["Compare", "Conjuction"]})
        assert ("symmetric_relations: 'Conjuction' is no relation type of the training data "
                "(its types: Compare, Conjunction, ") in caplog.text


def no_dropout(model) -> None:
    """SINET's layers in training mode without dropout, the encoder in evaluation mode (its
    attention dropout is no module that could be switched off): runs are deterministic."""
    model.train()
    model.embedder.eval()
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0


def assert_same_predictions(first: dict, second: dict) -> None:
    """Same entities and relations (boundaries, types, order) exactly; scores to 1e-5."""
    def decisions(prediction):
        return ([(e["start"], e["end"], e["type"]) for e in prediction["entities"]],
                [(r["head"], r["tail"], r["type"]) for r in prediction["relations"]])

    assert decisions(first) == decisions(second)
    for key in ("entities", "relations"):
        scores = [item["score"] for item in first[key]], [item["score"] for item in second[key]]
        assert scores[0] == pytest.approx(scores[1], abs=1e-5)
