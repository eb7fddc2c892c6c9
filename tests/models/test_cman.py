"""The CMAN model: training, saving and loading, batch consistency, legal CRF paths, CRF marginals
against brute force, multi-head selection's triples, and gold labels on the label side in
training against predicted ones at inference."""
import itertools
import json

import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data import Vocabulary
from allennlp.models import Model

from conftest import CMAN_CONFIG, FIXTURE_DATA
from sinet_allen.dataset_readers.bio import bio_spans

TRAIN = FIXTURE_DATA / "spert" / "train.json"


pytestmark = pytest.mark.usefixtures("one_thread")


def legal(tags) -> bool:
    """Whether a BIO sequence has no `I-X` except after `B-X` or `I-X`."""
    previous = "O"
    for tag in tags:
        if tag.startswith("I-") and previous[2:] != tag[2:]:
            return False
        previous = tag
    return True


class TestCman(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        params = Params.from_file(str(CMAN_CONFIG))
        params["data_loader"]["batch_sampler"]["shuffle"] = False  # the same batches before and after loading
        self.config = self.TEST_DIR / "cman.json"
        self.config.write_text(json.dumps(params.as_dict(quiet=True)))
        self.set_up_model(str(self.config), TRAIN)

    def tensors(self):
        return self.dataset.as_tensor_dict()

    def test_cman_can_train_save_and_load(self):
        self.ensure_model_can_train_save_and_load(str(self.config))

    def test_batch_predictions_are_consistent(self):
        # Scores are floats that padding changes in the last bits: triples exactly, scores nearly.
        self.ensure_batch_predictions_are_consistent(keys_to_ignore=("entities", "relations"))
        self.model.eval()
        singles = [self.model.forward_on_instance(instance) for instance in self.instances]
        for single, batched in zip(singles, self.model.forward_on_instances(self.instances)):
            for key in ("entities", "relations"):
                assert [item["score"] for item in single[key]] == pytest.approx(
                    [item["score"] for item in batched[key]], abs=1e-5)

    def test_a_vocabulary_without_tags_is_a_clear_error(self):
        params = Params.from_file(str(CMAN_CONFIG))["model"]
        with pytest.raises(ConfigurationError, match="joint_ie reader's bio_tags: true"):
            Model.from_params(vocab=Vocabulary(), params=params)

    # --- entities --------------------------------------------------------------------------------

    def test_the_crf_decodes_legal_tag_sequences(self):
        names = self.model.tag_names
        torch.manual_seed(0)
        emissions = torch.randn(8, 12, len(names)) * 10
        mask = torch.ones(8, 12, dtype=torch.bool)
        mask[3, 5:] = False
        # Word by word, the best tags break BIO somewhere: the CRF's constraints must repair that.
        assert not all(legal([names[t] for t in row]) for row in emissions.argmax(-1).tolist())
        tags = self.model.best_tags(emissions, mask)
        for row, length in zip(tags.tolist(), mask.sum(1).tolist()):
            sequence = [names[t] for t in row[:length]]
            assert legal(sequence)
            assert [tag for tag in sequence if tag != "O"] == [
                tag for start, end, label in bio_spans(sequence)
                for tag in ["B-" + label] + ["I-" + label] * (end - start - 1)]

    def test_tag_marginals_match_brute_force(self):
        crf, num_tags = self.model.crf, len(self.model.tag_names)
        torch.manual_seed(1)
        emissions = torch.randn(2, 3, num_tags)
        mask = torch.tensor([[True, True, True], [True, True, False]])
        marginals = self.model.tag_marginals(emissions, mask)
        for row, length in enumerate(mask.sum(1).tolist()):
            expected = torch.zeros(length, num_tags)
            for path in itertools.product(range(num_tags), repeat=length):
                tags = torch.tensor([path])
                probability = crf(emissions[row : row + 1, :length], tags, mask[row : row + 1, :length]).exp()
                expected[torch.arange(length), tags[0]] += probability
            torch.testing.assert_close(marginals[row, :length], expected.detach())

    # --- relations -------------------------------------------------------------------------------

    def test_multi_head_selection_reads_the_entities_last_words(self, monkeypatch):
        model = self.model.eval()
        relation = model.vocab.get_token_index
        # Word w's state is the one-hot vector of w; a stand-in for the scorer gives a logit per
        # word pair from a table, so the triples show which words were read.
        states = torch.eye(8, model.embedder.get_output_dim())
        table = torch.full((8, 8, model.vocab.get_vocab_size("relation_labels")), -10.0)
        table[2, 6, relation("Used-for", "relation_labels")] = 10.0  # last words of entities 0 and 2
        table[6, 4, relation("Compare", "relation_labels")] = 10.0  # entity 2 to entity 1, symmetric
        table[0, 6, relation("Used-for", "relation_labels")] = 10.0  # word 0 ends no entity
        monkeypatch.setattr(model, "selection_logits",
                            lambda heads, tails: table[heads.argmax(-1).unsqueeze(-1), tails.argmax(-1).unsqueeze(-2)])
        entities = [(0, 3, "Method", 1.0), (4, 5, "Task", 1.0), (5, 7, "Task", 1.0)]
        # A batch of three sentences with the same states: one without entities, one with two,
        # padded to three by an entity read at word 0, and one with all three.
        decoded = model._decode_relations(states.repeat(3, 1, 1), [[], [entities[0], entities[2]], entities])
        assert decoded[0] == []
        # The padding would relate to entity 1 (word 0 to word 6) were it not masked out.
        assert [(head, tail, label) for head, tail, label, _ in decoded[1]] == [(0, 1, "Used-for")]
        # Compare is stored head-before-tail: entity 1 (4-5) before entity 2 (5-7).
        assert [(head, tail, label) for head, tail, label, _ in decoded[2]] == [
            (0, 2, "Used-for"), (1, 2, "Compare")]
        assert all(score == pytest.approx(torch.tensor(10.0).sigmoid().item()) for *_, score in decoded[2])

    def test_selection_targets_are_the_gold_pairs_at_last_words(self):
        model = self.model.train()
        tensors = self.tensors()
        captured = {}
        real_loss = torch.nn.functional.binary_cross_entropy_with_logits

        def recording(logits, targets, **kwargs):
            captured["targets"] = targets
            return real_loss(logits, targets, **kwargs)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(torch.nn.functional, "binary_cross_entropy_with_logits", recording)
            model(**tensors)
        used_for = model.vocab.get_token_index("Used-for", "relation_labels")
        # The first sentence's only relation: Used-for from word 5 to word 12.
        assert captured["targets"][0].nonzero().tolist() == [[5, 12, used_for]]

    # --- the label side --------------------------------------------------------------------------

    def test_gold_labels_reach_the_label_side_in_training_and_predicted_ones_otherwise(self):
        model, tensors = self.model, self.tensors()
        gold = tensors["bio_tags"]
        other = gold.clone()
        other[gold >= 0] = model.vocab.get_token_index("B-Method", "bio_tags")
        emissions = []
        hook = model.tagger.register_forward_hook(lambda module, inputs, output: emissions.append(output))

        def run(tags):
            torch.manual_seed(0)  # the same dropout masks in both training runs
            return model(**{**tensors, "bio_tags": tags})

        try:
            model.train()
            with_gold, with_other = run(gold), run(other)
            # Training: the label side reads the given tags, and the entity pass does not see them.
            assert torch.equal(with_gold["relation_pass_tags"], gold.clamp(min=0))
            assert torch.equal(with_other["relation_pass_tags"], other.clamp(min=0))
            torch.testing.assert_close(emissions[0], emissions[1])
            model.eval()
            emissions.clear()
            evaluated, evaluated_other = run(gold), run(other)
        finally:
            hook.remove()
        # Inference: the entity pass's best tags, whatever gold the batch holds.
        mask = tensors["word_starts"] >= 0
        assert torch.equal(evaluated["relation_pass_tags"], model.best_tags(emissions[0], mask))
        assert not torch.equal(evaluated["relation_pass_tags"], gold.clamp(min=0))
        assert evaluated["entities"] == evaluated_other["entities"]
        assert evaluated["relations"] == evaluated_other["relations"]
