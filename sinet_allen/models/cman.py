"""CMAN: joint entity and relation extraction by dense cross-modal (token and label) attention,
BIO tagging with a CRF and multi-head selection (Zhao et al., IJCAI 2020). No public code exists;
docs/cman.md says what the paper states and what we chose where it is silent."""
import math
from typing import Any, Dict, List, Optional, Sequence

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules import ConditionalRandomField, TextFieldEmbedder
from allennlp.modules.conditional_random_field import allowed_transitions
from allennlp.nn import InitializerApplicator
from allennlp.nn.util import batched_index_select, get_text_field_mask

from sinet_allen.dataset_readers.bio import bio_spans
from sinet_allen.models.attention_recorder import word_ranges_from_starts
from sinet_allen.models.decoding import DecodedEntity, DecodedRelation, best_relations, decoded_output
from sinet_allen.models.joint_ie_model import JointIEModel, initialise_like_bert
from sinet_allen.modules.cross_modal_attention import CrossModalAttention


@Model.register("cman")
class Cman(JointIEModel):
    """
    Reads the `joint_ie` reader's BIO view (`bio_tags: true`). A word is its first wordpiece's
    encoder state. One stack of `num_layers` token-to-token and label-to-token units
    (`sinet_allen/modules/cross_modal_attention.py`) runs twice over these word states, with shared weights (and
    the shared output of its first unit, which sees no label):

    1. the entity pass gives every word the embedding of an "unknown" label; a linear layer and a
       CRF with BIO constraints (AllenNLP's `ConditionalRandomField`) tag its output;
    2. the relation pass gives every word the embedding of its tag: the gold tag in training mode,
       the entity pass's Viterbi tag otherwise (validation, prediction), also where gold is given
       (the output's `relation_pass_tags` shows which).
       Multi-head selection (Bekoulis et al., 2018) scores every ordered word pair and relation
       type: `sigmoid(v_r . tanh(U h_head + W h_tail + b))`, read at the entities' last words.

    Entities are the Viterbi tags' spans, each scored by the mean CRF marginal probability of its
    words' tags; a relation holds between two entities where its score exceeds
    `relation_threshold`. Loss: the CRF's negative log-likelihood plus the binary cross-entropy of
    every word pair (the diagonal left out) and type, both summed per sentence and averaged over
    the batch. The output is that of every model of the library (`JointIEModel`).

    Registered as a `Model` with name "cman".

    # Parameters

    vocab : `Vocabulary`, required.
        Holds the "bio_tags" and "relation_labels" namespaces of the training data.
    embedder : `TextFieldEmbedder`, required.
        The encoder of the wordpieces, e.g. a `pretrained_transformer` token embedder.
    num_layers : `int`, optional (default = `2`)
        Depth of the stack: token-to-token and label-to-token units, one of each per layer.
    num_heads : `int`, optional (default = `4`)
        Attention heads of every unit; must divide the encoder's output size.
    dropout : `float`, optional (default = `0.1`)
        Dropout in the attention units and on the tagger's and the selection's inputs.
    relation_hidden_dim : `int`, optional (default = `128`)
        Size of multi-head selection's hidden layer (the rows of `U` and `W`).
    relation_threshold : `float`, optional (default = `0.5`)
        A relation is predicted where its sigmoid exceeds this.
    relation_prior : `float`, optional (default = `0.01`)
        The probability every word pair and type starts with (the selection's bias is its
        log-odds, as Lin et al., 2017, start rare classes): related pairs are rare among all pairs,
        and from 0.5 the encoder's small learning rate would take many epochs to get there.
    symmetric_relations : `Sequence[str]`, optional (default = `()`)
        Relation types without direction: decoded and scored head-before-tail.
    per_type_metrics : `bool`, optional (default = `False`)
        Reports precision, recall and F1 per entity and relation type as well.
    inference_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` runs a bfloat16 copy of the encoder outside training, `"int8"` (CPU only) a
        copy whose Linear layers multiply in int8 (sinet_allen/models/quantization.py).
    training_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` trains with the encoder under bfloat16 autocast.
    return_attention : `bool`, optional (default = `False`)
        Outside training, adds `attention` to the output: per sentence the encoder's last-layer
        [CLS] attention per word (CMAN has no CTAM agents, so no NER-aware or RE-aware maps).
    initializer : `InitializerApplicator`, optional (default = `InitializerApplicator()`)
        Applied after the BERT-like initialisation of the layers CMAN adds to the encoder.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        embedder: TextFieldEmbedder,
        num_layers: int = 2,
        num_heads: int = 4,
        dropout: float = 0.1,
        relation_hidden_dim: int = 128,
        relation_threshold: float = 0.5,
        relation_prior: float = 0.01,
        symmetric_relations: Sequence[str] = (),
        per_type_metrics: bool = False,
        inference_precision: str = "float32",
        training_precision: str = "float32",
        return_attention: bool = False,
        initializer: InitializerApplicator = InitializerApplicator(),
        **kwargs,
    ) -> None:
        super().__init__(vocab, embedder, symmetric_relations, per_type_metrics, inference_precision,
                         training_precision, return_attention, **kwargs)
        dim = embedder.get_output_dim()
        self.tag_names = vocab.get_index_to_token_vocabulary("bio_tags")
        num_tags = len(self.tag_names)
        if not num_tags:
            raise ConfigurationError("cman: the vocabulary has no 'bio_tags'; read the training data with the "
                                     "joint_ie reader's bio_tags: true")
        self.unknown_label = num_tags  # the label every word has in the entity pass
        self.label_embedding = torch.nn.Embedding(num_tags + 1, dim)
        self.attention = CrossModalAttention(dim, num_heads, num_layers, dropout)
        self.dropout = torch.nn.Dropout(dropout)
        self.tagger = torch.nn.Linear(dim, num_tags)
        self.crf = ConditionalRandomField(num_tags, constraints=allowed_transitions("BIO", self.tag_names))
        self.selection_head = torch.nn.Linear(dim, relation_hidden_dim, bias=False)
        self.selection_tail = torch.nn.Linear(dim, relation_hidden_dim)
        self.selection = torch.nn.Linear(relation_hidden_dim, vocab.get_vocab_size("relation_labels"))
        self.relation_threshold = relation_threshold
        for name, module in self.named_children():
            if name != "embedder":
                module.apply(initialise_like_bert)
        torch.nn.init.constant_(self.selection.bias, math.log(relation_prior / (1 - relation_prior)))
        initializer(self)

    def forward(  # type: ignore[override]
        self,
        tokens: TextFieldTensors,
        word_starts: torch.LongTensor,
        metadata: List[Dict[str, Any]],
        bio_tags: Optional[torch.LongTensor] = None,
        relation_pairs: Optional[torch.LongTensor] = None,
        relation_labels: Optional[torch.LongTensor] = None,
    ) -> Dict[str, Any]:
        if word_starts.size(1) == 0:  # only empty sentences: one padding word keeps the shapes valid
            word_starts = word_starts.new_full((word_starts.size(0), 1), -1)
        mask = word_starts >= 0
        with self.record_attention(self.attention) as recorder:
            encoded = self.encode(tokens)
        words = batched_index_select(encoded, word_starts.clamp(min=0))
        unknown = self.label_embedding(torch.full_like(word_starts, self.unknown_label))
        read = self.attention.read_tokens(words, mask)  # shared by both passes: it sees no label
        emissions = self.tagger(self.dropout(self.attention(read, unknown, mask)))
        gold_labels = self.training and bio_tags is not None
        labels = bio_tags.clamp(min=0) if gold_labels else self.best_tags(emissions, mask)
        relation_states = self.attention(read, self.label_embedding(labels), mask)
        output: Dict[str, Any] = {"relation_pass_tags": labels}
        if bio_tags is not None:
            output["loss"] = (self._tagging_loss(emissions, bio_tags, mask)
                              + self._selection_loss(relation_states, mask, relation_pairs, relation_labels))
        if bio_tags is None or not self.training:
            output.update(self._decode(emissions, labels, relation_states, mask))
            self.score(output, metadata)
        if recorder is not None:
            wordpiece_mask = get_text_field_mask(tokens)
            output["attention"] = recorder.word_maps(
                wordpiece_mask, word_ranges_from_starts(word_starts, wordpiece_mask, metadata))
        return output

    # --- entities ------------------------------------------------------------------------------

    def best_tags(self, emissions: torch.Tensor, mask: torch.BoolTensor) -> torch.LongTensor:
        """The CRF's best legal tag sequences `[batch, words]` (0 at padding)."""
        rows = mask[:, 0].nonzero().flatten()  # sentences with words: the CRF cannot take empty ones
        # Assembled here and copied to the device once, not once per sentence.
        tags = [[0] * mask.size(1) for _ in range(mask.size(0))]
        for row, (path, _) in zip(rows.tolist(), self.crf.viterbi_tags(emissions[rows], mask[rows])):
            tags[row][: len(path)] = path
        return torch.tensor(tags, dtype=torch.long, device=mask.device)

    def _tagging_loss(self, emissions, tags, mask) -> torch.Tensor:
        rows = mask[:, 0]
        return -self.crf(emissions[rows], tags[rows].clamp(min=0), mask[rows]) / mask.size(0)

    def tag_marginals(self, emissions: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """P(word i has tag t | sentence) `[batch, words, tags]` under the CRF, by the
        forward-backward algorithm (values at padding are meaningless)."""
        crf, length = self.crf, emissions.size(1)
        forward = [crf.start_transitions + emissions[:, 0]]
        for i in range(1, length):
            step = torch.logsumexp(forward[-1].unsqueeze(2) + crf.transitions, dim=1) + emissions[:, i]
            forward.append(torch.where(mask[:, i : i + 1], step, forward[-1]))
        end = crf.end_transitions.expand_as(forward[0])
        backward = [end]
        for i in range(length - 2, -1, -1):
            step = torch.logsumexp(crf.transitions + (emissions[:, i + 1] + backward[0]).unsqueeze(1), dim=2)
            backward.insert(0, torch.where(mask[:, i + 1 : i + 2], step, end))
        log_partition = torch.logsumexp(forward[-1] + end, dim=1)
        return (torch.stack(forward, 1) + torch.stack(backward, 1) - log_partition[:, None, None]).exp()

    # --- relations -----------------------------------------------------------------------------

    def selection_logits(self, head_states: torch.Tensor, tail_states: torch.Tensor) -> torch.Tensor:
        """Multi-head selection's logits `[..., heads, tails, relation types]` for the words
        `head_states [..., heads, dim]` and `tail_states [..., tails, dim]`."""
        heads = self.selection_head(self.dropout(head_states)).unsqueeze(-2)
        tails = self.selection_tail(self.dropout(tail_states)).unsqueeze(-3)
        return self.selection(torch.tanh(heads + tails))

    def _selection_loss(self, states, mask, pairs, labels) -> torch.Tensor:
        logits = self.selection_logits(states, states)
        targets = torch.zeros_like(logits)
        if pairs is not None and pairs.numel():
            given = pairs[..., 0] >= 0
            sentence = torch.arange(pairs.size(0), device=pairs.device).unsqueeze(1).expand_as(given)
            targets[sentence[given], pairs[..., 0][given], pairs[..., 1][given]] = labels[given].to(logits.dtype)
        distinct = ~torch.eye(mask.size(1), dtype=torch.bool, device=mask.device)
        cells = (mask.unsqueeze(2) & mask.unsqueeze(1) & distinct).unsqueeze(-1).to(logits.dtype)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        return (losses * cells).sum() / mask.size(0)

    # --- decoding ------------------------------------------------------------------------------

    # Decoding copies each tensor it reads to the host once per batch: on a GPU every copy waits
    # for the device, and one per sentence or per entity would dominate inference.

    def _decode(self, emissions, tags, relation_states, mask) -> Dict[str, Any]:
        tag_probabilities = self.tag_marginals(emissions, mask).gather(2, tags.unsqueeze(2)).squeeze(2)
        entities = []
        for tag_row, scores, length in zip(tags.tolist(), tag_probabilities.tolist(), mask.sum(1).tolist()):
            spans = bio_spans([self.tag_names[tag] for tag in tag_row[:length]])
            entities.append([(start, end, label, sum(scores[start:end]) / (end - start))
                             for start, end, label in spans])
        return decoded_output(entities, self._decode_relations(relation_states, entities))

    def _decode_relations(self, states: torch.Tensor,
                          entities: List[List[DecodedEntity]]) -> List[List[DecodedRelation]]:
        """Per sentence the relations among its `entities`, read at their last words in
        `states [batch, words, dim]`."""
        count = max(map(len, entities), default=0)
        if not count:
            return [[] for _ in entities]
        last_words = torch.tensor([[end - 1 for _, end, _, _ in sentence] + [0] * (count - len(sentence))
                                   for sentence in entities], dtype=torch.long, device=states.device)
        counts = last_words.new_tensor([len(sentence) for sentence in entities])
        real = torch.arange(count, device=states.device) < counts.unsqueeze(1)
        pairs = real.unsqueeze(2) & real.unsqueeze(1) & ~torch.eye(count, dtype=torch.bool, device=states.device)
        words = batched_index_select(states, last_words)
        probabilities = self.selection_logits(words, words).sigmoid().masked_fill(~pairs.unsqueeze(-1), 0.0)
        hits = (probabilities > self.relation_threshold).nonzero()
        names = self.vocab.get_index_to_token_vocabulary("relation_labels")
        found: List[List[DecodedRelation]] = [[] for _ in entities]
        for (sentence, head, tail, label), score in zip(hits.tolist(), probabilities[hits.unbind(1)].tolist()):
            found[sentence].append((head, tail, names[label], score))
        return [best_relations(relations, self.symmetric_relations, mention=lambda index, s=sentence: s[index][:3])
                for relations, sentence in zip(found, entities)]
