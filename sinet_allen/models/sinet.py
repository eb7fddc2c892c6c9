"""SINET: span-based joint entity and relation extraction with task-aware projection and
cross-task attention (Luo et al., LREC-COLING 2024). Every ablation is a choice of modules."""
import functools
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import torch
from allennlp.common import Lazy
from allennlp.common.checks import ConfigurationError
from allennlp.data import TextFieldTensors, Vocabulary
from allennlp.models import Model
from allennlp.modules import Seq2VecEncoder, TextFieldEmbedder
from allennlp.modules.span_extractors import SpanExtractor
from allennlp.modules.seq2vec_encoders import ClsPooler
from allennlp.nn import InitializerApplicator
from allennlp.nn.util import batched_index_select, get_text_field_mask

from sinet_allen.metrics.left_out import LeftOutCounts
from sinet_allen.schema import NO_ENTITY
from sinet_allen.models.attention_recorder import word_ranges
from sinet_allen.models.decoding import (decode_entities, decode_relations, decoded_output, drop_overlaps, ordered_pairs,
                                         relation_candidates)
from sinet_allen.models.boundary_smoothing import smoothed_entity_targets
from sinet_allen.models.joint_ie_model import JointIEModel, initialise_like_bert
from sinet_allen.modules.fast_dropout import use_fast_dropout
from sinet_allen.modules.range_span_extractors import RangeMaxSpanExtractor
from sinet_allen.modules.task_interaction import TaskInteraction, TaskViews
from sinet_allen.modules.task_projection import LinearTaskProjection, TaskProjection

# The metrics that count what the model's limits leave out of evaluation (never dropped unseen).
TOO_MANY_ENTITIES = "entities_beyond_max_relation_entities"
TOO_WIDE_GOLD = "gold_entities_wider_than_max_span_size"


@Model.register("sinet")
class Sinet(JointIEModel):
    """
    The entity classifier reads `[span ; width embedding ; entity agent]`, the relation classifier
    `[e(s1) ; context(s1, s2) ; e(s2) ; relation agent]` with `e(s) = [span ; width embedding]`
    over the relation view and the context extracted from the encoder states strictly between the
    spans. Loss: cross-entropy over entity candidates plus binary cross-entropy over relation
    candidates. Every ablation of the paper is a choice of the modules below.

    The layers SINET adds to the encoder start as BERT initialises its own (normal weights with
    standard deviation 0.02, zero biases, LayerNorm untouched), as in the authors' code, which
    builds on BERT's model classes; an `initializer` given in the config is applied afterwards.

    Registered as a `Model` with name "sinet".

    # Parameters

    vocab : `Vocabulary`, required.
        Holds the "entity_labels" and "relation_labels" namespaces of the training data.
    embedder : `TextFieldEmbedder`, required.
        The encoder of the wordpieces, e.g. a `pretrained_transformer` token embedder. The configs
        pass it `transformer_kwargs: {add_pooling_layer: false}`: SINET never reads the pooler.
    task_projection : `Lazy[TaskProjection]`, optional (default = `linear`)
        The task-aware projection (TAP) into an entity view and a relation view of the states;
        `identity` for the paper's Base model. Built with the encoder's output size.
    interactive_agent : `Lazy[Seq2VecEncoder]`, optional (default = `cls_pooler`)
        Summarises each view into one vector per sentence, the agent, reading the sentence's own
        wordpieces ([CLS], [SEP] and padding masked; see `attend_to_context` for a context
        window's): `cls_pooler` ([CLS], the input's first wordpiece, the paper's),
        `boe` with `averaged: true` (mean) or `max_pooler` (max). Built with `embedding_dim`, the
        encoder's output size; with an `interaction` its output size must equal that size.
    interaction : `Lazy[TaskInteraction]`, optional (default = `None`)
        How the two views inform each other: `cross_task_attention` (CTAM, SINET's);
        `None` for the Base and Base+TAP ablations. Built with the encoder's output size.
    span_extractor : `Lazy[SpanExtractor]`, optional (default = `range_max`)
        The representation of a candidate span in each view: `range_max`, `range_sum` or
        `range_mean` (O(length x dim) memory), or any AllenNLP span extractor. Built with
        `input_dim`, the encoder's output size.
    context_extractor : `Lazy[SpanExtractor]`, optional (default = `range_max`)
        The representation of the words strictly between the two spans of a pair, extracted from
        the encoder states; zeros where the spans touch or overlap. Built like `span_extractor`.
    attend_to_context : `bool`, optional (default = `False`)
        With a reader's `context_window`: whether the agents and the interaction (the CTAM keys)
        read the whole window, context included, or the target sentence only. The entity spans
        and the words between two spans lie in the sentence either way, and the encoder always
        reads the whole window. Without a window there is nothing to choose.
    width_embedding_dim : `int`, optional (default = `100`)
        Size of the span width embedding.
    num_width_embeddings : `int`, optional (default = `100`)
        Number of span widths (in words) embedded; wider spans share the last embedding.
    dropout : `float`, optional (default = `0.1`)
        Dropout on both classifiers' inputs.
    boundary_smoothing : `float`, optional (default = `0.0`)
        Boundary smoothing of the entity loss (sinet_allen/models/boundary_smoothing.py, Zhu & Li,
        ACL 2022): the share of a gold span's probability spread over the candidate spans within
        `boundary_smoothing_distance` words of it. Needs the reader's `boundary_neighbours` (at
        least the distance) to put those spans among the candidates. `0` is the paper's loss.
    boundary_smoothing_distance : `int`, optional (default = `1`)
        How far (|start - start'| + |end - end'|, in words) the smoothed probability reaches.
    relation_threshold : `float`, optional (default = `0.5`)
        A relation is predicted where its sigmoid exceeds this.
    overlapping_entities : `bool`, optional (default = `True`)
        At inference every span not classified as no-entity is kept, overlapping or not, as in the
        paper. With `False`, spans are taken best entity score first and one that overlaps a span
        already taken is dropped (flat decoding, for data sets with few nested entities).
    symmetric_relations : `Sequence[str]`, optional (default = `()`)
        Relation types without direction: decoded and scored head-before-tail.
    max_relation_entities : `int`, optional (default = `100`)
        At inference, the number of best kept spans (by entity score) whose ordered pairs are scored.
        The entities left out are counted in the metric `entities_beyond_max_relation_entities`
        (and, like gold entities wider than any candidate span, `gold_entities_wider_than_max_span_size`,
        warned about once).
    max_pairs : `int`, optional (default = `20000`)
        At inference, pairs scored at a time per batch, a bound on memory.
    per_type_metrics : `bool`, optional (default = `False`)
        Reports precision, recall and F1 per entity and relation type as well.
    inference_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` runs a bfloat16 copy of the encoder outside training (evaluation,
        prediction), faster on GPUs and on CPUs with bfloat16 instructions; `"int8"` (CPU only) a
        copy whose Linear layers multiply in int8 (sinet_allen/models/quantization.py). Independent of
        training, so it can be set at prediction time: `-o '{"model.inference_precision": "bfloat16"}'`.
    training_precision : `str`, optional (default = `"float32"`)
        `"bfloat16"` trains with the encoder under bfloat16 autocast (mixed precision: the weights,
        their gradients, the optimizer and everything after the encoder stay float32).
    fast_dropout : `bool`, optional (default = `True`)
        Makes every dropout, the encoder's included, a `FastDropout` (the same distribution, fewer
        random draws on CPU); `False` keeps PyTorch's dropout and the random masks of earlier runs.
    return_attention : `bool`, optional (default = `False`)
        Outside training, adds `attention` to the output: per sentence the encoder's last-layer
        [CLS] attention and the CTAM agents' attention per word (sinet_allen/models/attention_recorder.py).
        Off, nothing is recorded; the `sinet` predictor's `attention` argument turns it on.
    initializer : `InitializerApplicator`, optional (default = `InitializerApplicator()`)
        Applied after the BERT-like initialisation.
    """

    def __init__(
        self,
        vocab: Vocabulary,
        embedder: TextFieldEmbedder,
        task_projection: Lazy[TaskProjection] = Lazy(LinearTaskProjection),
        interactive_agent: Lazy[Seq2VecEncoder] = Lazy(ClsPooler),
        interaction: Optional[Lazy[TaskInteraction]] = None,
        span_extractor: Lazy[SpanExtractor] = Lazy(RangeMaxSpanExtractor),
        context_extractor: Lazy[SpanExtractor] = Lazy(RangeMaxSpanExtractor),
        attend_to_context: bool = False,
        width_embedding_dim: int = 100,
        num_width_embeddings: int = 100,
        dropout: float = 0.1,
        boundary_smoothing: float = 0.0,
        boundary_smoothing_distance: int = 1,
        relation_threshold: float = 0.5,
        overlapping_entities: bool = True,
        symmetric_relations: Sequence[str] = (),
        max_relation_entities: int = 100,
        max_pairs: int = 20000,
        per_type_metrics: bool = False,
        inference_precision: str = "float32",
        training_precision: str = "float32",
        fast_dropout: bool = True,
        return_attention: bool = False,
        initializer: InitializerApplicator = InitializerApplicator(),
        **kwargs,
    ) -> None:
        super().__init__(vocab, embedder, symmetric_relations, per_type_metrics, inference_precision,
                         training_precision, return_attention, **kwargs)
        dim = embedder.get_output_dim()
        self.task_projection = task_projection.construct(input_dim=dim)
        self.interactive_agent = interactive_agent.construct(embedding_dim=dim)
        self.interaction = interaction.construct(input_dim=dim) if interaction else None
        self.span_extractor = span_extractor.construct(input_dim=dim)
        self.context_extractor = context_extractor.construct(input_dim=dim)
        self.attend_to_context = attend_to_context
        agent_dim = self.interactive_agent.get_output_dim()
        if self.interaction is not None and agent_dim != dim:
            raise ConfigurationError(
                f"the interaction reads and returns agents of the encoder's size ({dim}), but the "
                f"interactive_agent gives {agent_dim} features: choose an agent of the encoder's size"
            )
        self.width_embedding = torch.nn.Embedding(num_width_embeddings, width_embedding_dim)
        self.dropout = torch.nn.Dropout(dropout)
        self.no_entity = vocab.add_token_to_namespace(NO_ENTITY, "entity_labels")
        num_entity_labels = vocab.get_vocab_size("entity_labels")
        self.num_relation_labels = vocab.get_vocab_size("relation_labels")
        span_dim = self.span_extractor.get_output_dim() + width_embedding_dim
        self.entity_classifier = torch.nn.Linear(span_dim + agent_dim, num_entity_labels)
        self.relation_classifier = torch.nn.Linear(
            2 * span_dim + self.context_extractor.get_output_dim() + agent_dim, self.num_relation_labels
        )
        if not 0.0 <= boundary_smoothing < 1.0 or boundary_smoothing_distance < 1:
            raise ConfigurationError("boundary_smoothing must be a share in [0, 1) and boundary_smoothing_distance "
                                     f"1 or more words, got {boundary_smoothing} and {boundary_smoothing_distance}")
        self.boundary_smoothing = boundary_smoothing
        self.boundary_smoothing_distance = boundary_smoothing_distance
        self.relation_threshold = relation_threshold
        self.overlapping_entities = overlapping_entities
        self.max_relation_entities = max_relation_entities
        self.max_pairs = max_pairs
        self.left_out = LeftOutCounts({
            TOO_MANY_ENTITIES: f"entities beyond the {max_relation_entities} best of a sentence "
                               "(max_relation_entities) were left out of relation scoring: no relation of theirs "
                               "can be predicted",
            TOO_WIDE_GOLD: "gold entities wider than the widest candidate span (the reader's max_span_size) "
                           "cannot be predicted: they count as missed",
        })
        for name, module in self.named_children():
            if name != "embedder":
                module.apply(initialise_like_bert)
        initializer(self)
        if fast_dropout:
            use_fast_dropout(self)

    def forward(  # type: ignore[override]
        self,
        tokens: TextFieldTensors,
        entity_spans: torch.LongTensor,
        entity_wordpiece_spans: torch.LongTensor,
        metadata: List[Dict[str, Any]],
        entity_labels: Optional[torch.LongTensor] = None,
        relation_pairs: Optional[torch.LongTensor] = None,
        relation_labels: Optional[torch.LongTensor] = None,
    ) -> Dict[str, Any]:
        if entity_labels is not None:
            # DistributedDataParallel, without its costly search for unused parameters, needs every
            # parameter in every loss. A batch without candidate pairs (or spans) would leave the
            # relation classifier and the extractors out: it gets one padding pair (and span),
            # which the losses mask out, so those parameters take part with a gradient of zero.
            entity_spans, entity_wordpiece_spans, entity_labels, relation_pairs = (
                _at_least_one(tensor, padding=-1)
                for tensor in (entity_spans, entity_wordpiece_spans, entity_labels, relation_pairs)
            )
            relation_labels = _at_least_one(relation_labels, padding=0)
        mask = get_text_field_mask(tokens)
        with self.record_attention(self.interaction) as recorder:
            states = self.encode(tokens)
            views = self._task_views(states, agent_mask(mask, metadata, self.attend_to_context))
        span_mask = entity_spans[..., 0] >= 0
        widths = self.width_embedding(
            (entity_spans[..., 1] - entity_spans[..., 0]).clamp(0, self.width_embedding.num_embeddings - 1)
        )
        entity_logits = self._entity_logits(views, mask, entity_wordpiece_spans, widths)
        relation_inputs_for = functools.partial(
            self._relation_inputs, states, mask, views, entity_wordpiece_spans, widths
        )
        output: Dict[str, Any] = {}
        if entity_labels is not None:
            output["loss"] = self._entity_loss(entity_logits, entity_labels, span_mask, entity_spans)
            if relation_pairs is not None:
                output["loss"] = output["loss"] + self._relation_loss(
                    relation_inputs_for(None), relation_pairs, relation_labels
                )
        if entity_labels is None or not self.training:
            output.update(self._decode(entity_logits, span_mask, entity_spans, relation_inputs_for))
            self.score(output, metadata)
            self.left_out(**{TOO_WIDE_GOLD: gold_wider_than_candidates(entity_spans, span_mask, metadata)})
        if recorder is not None:
            ranges = word_ranges(entity_spans, entity_wordpiece_spans, [len(m["tokens"]) for m in metadata])
            output["attention"] = recorder.word_maps(mask, ranges)
        return output

    # --- representations -----------------------------------------------------------------------

    def _task_views(self, states: torch.Tensor, sentence_mask: torch.BoolTensor) -> TaskViews:
        entity_states, relation_states = self.task_projection(states)
        views = TaskViews(
            entity_states,
            relation_states,
            self.interactive_agent(entity_states, sentence_mask),
            self.interactive_agent(relation_states, sentence_mask),
        )
        return self.interaction(views, sentence_mask) if self.interaction else views

    def _extract(self, extractor: SpanExtractor, states, mask, spans: torch.LongTensor) -> torch.Tensor:
        """`extractor` over `[start, end)` wordpiece `spans [batch, n, 2]`; an empty span (end <=
        start, padding included) gives zeros."""
        if spans.size(1) == 0:  # AllenNLP's extractors cannot take no span
            return states.new_zeros(states.size(0), 0, extractor.get_output_dim())
        span_mask = spans[..., 1] > spans[..., 0]
        # AllenNLP's convention is inclusive ends. Its extractors refuse indices outside the
        # sequence even under the mask, so masked spans point at [CLS]; the mask zeroes them.
        inclusive = torch.stack([spans[..., 0], spans[..., 1] - 1], -1).masked_fill(~span_mask.unsqueeze(-1), 0)
        return extractor(states, inclusive, mask, span_mask)

    def _entity_logits(self, views: TaskViews, mask, wordpiece_spans, widths) -> torch.Tensor:
        spans_repr = torch.cat([self._extract(self.span_extractor, views.entity_states, mask, wordpiece_spans),
                                widths], -1)
        agent = views.entity_agent
        if self.training:  # dropout masks every span's copy of the agent separately
            return self.entity_classifier(self.dropout(torch.cat([spans_repr, _expand(agent, spans_repr)], -1)))
        # Without dropout the classifier over [span ; agent] splits into two products, the
        # agent's computed once per sentence instead of once per span.
        span_weight, agent_weight = self.entity_classifier.weight.split([spans_repr.size(-1), agent.size(-1)], 1)
        return (torch.nn.functional.linear(spans_repr, span_weight, self.entity_classifier.bias)
                + torch.nn.functional.linear(agent, agent_weight).unsqueeze(1))

    def _relation_inputs(self, states, mask, views: TaskViews, wordpiece_spans, widths,
                         candidates: Optional[torch.LongTensor]) -> "RelationInputs":
        """The relation classifier's inputs for the spans `candidates [batch, k]` index, or for
        all spans when it is None (training pairs index the instance's spans)."""
        if candidates is not None:
            wordpiece_spans, widths = (
                batched_index_select(x, candidates) if candidates.numel() else x[:, :0]  # it cannot take no index
                for x in (wordpiece_spans, widths)
            )
        spans_repr = torch.cat([self._extract(self.span_extractor, views.relation_states, mask, wordpiece_spans),
                                widths], -1)
        return RelationInputs(states, mask, spans_repr, wordpiece_spans, views.relation_agent)

    def _relation_logits(self, inputs: "RelationInputs", pairs: torch.LongTensor) -> torch.Tensor:
        """Logits `[batch, pairs, labels]` for `pairs [batch, pairs, 2]` of candidate indices."""
        states, mask, spans_repr, wordpiece_spans, agent = inputs
        heads, tails = pairs[..., 0].clamp(min=0), pairs[..., 1].clamp(min=0)
        head_spans = batched_index_select(wordpiece_spans, heads)
        tail_spans = batched_index_select(wordpiece_spans, tails)
        # The words strictly between the spans: empty when they touch or overlap.
        between = torch.stack([torch.minimum(head_spans[..., 1], tail_spans[..., 1]),
                               torch.maximum(head_spans[..., 0], tail_spans[..., 0])], -1)
        context = self._extract(self.context_extractor, states, mask, between)
        if self.training:  # dropout masks every pair's copy of its spans and agent separately
            features = [batched_index_select(spans_repr, heads), context,
                        batched_index_select(spans_repr, tails), _expand(agent, between)]
            return self.relation_classifier(self.dropout(torch.cat(features, -1)))
        # Without dropout the classifier splits by input: each candidate is projected once as a
        # head and once as a tail, and the pairs gather those few logits instead of copying the
        # candidates' representations into a features tensor per pair.
        head_weight, context_weight, tail_weight, agent_weight = self.relation_classifier.weight.split(
            [spans_repr.size(-1), context.size(-1), spans_repr.size(-1), agent.size(-1)], 1
        )
        linear = torch.nn.functional.linear
        return (batched_index_select(linear(spans_repr, head_weight), heads)
                + linear(context, context_weight)
                + batched_index_select(linear(spans_repr, tail_weight), tails)
                + linear(agent, agent_weight, self.relation_classifier.bias).unsqueeze(1))

    # --- losses --------------------------------------------------------------------------------

    def _entity_loss(self, logits, labels, span_mask, spans) -> torch.Tensor:
        labels = labels[:, : logits.size(1)]
        if self.boundary_smoothing:
            targets = smoothed_entity_targets(spans, labels, span_mask, self.no_entity, logits.size(-1),
                                              self.boundary_smoothing, self.boundary_smoothing_distance)
            losses = -(targets * logits.log_softmax(-1)).sum(-1)
        else:
            losses = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels.clamp(min=0), reduction="none")
        return (losses * span_mask).sum() / span_mask.sum().clamp(min=1)

    def _relation_loss(self, inputs, pairs, labels) -> torch.Tensor:
        pair_mask = pairs[..., 0] >= 0
        logits = self._relation_logits(inputs, pairs)
        targets = labels[:, : pairs.size(1)].to(logits.dtype)
        losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, targets, reduction="none")
        # Binary cross-entropy averaged over the relation types, then over the candidate pairs.
        return (losses.mean(-1) * pair_mask).sum() / pair_mask.sum().clamp(min=1)

    # --- decoding (sinet_allen/models/decoding.py) ----------------------------------------------

    def _decode(self, entity_logits, span_mask, entity_spans, relation_inputs_for) -> Dict[str, Any]:
        scores, labels = entity_logits.softmax(-1).max(-1)
        keep = span_mask & (labels != self.no_entity)
        if not self.overlapping_entities:
            keep = drop_overlaps(keep, scores, entity_spans)
        candidates, candidate_mask = relation_candidates(scores, keep, self.max_relation_entities)
        self.left_out(**{TOO_MANY_ENTITIES: int((keep.sum(1) - self.max_relation_entities).clamp(min=0).sum())})
        # Relation representations only for the candidates: far fewer than all spans.
        candidate_pairs, pair_mask = ordered_pairs(candidate_mask)
        relation_scores = self._chunked_relation_scores(relation_inputs_for(candidates), candidate_pairs)
        pairs = torch.gather(candidates, 1, candidate_pairs.flatten(1)).view_as(candidate_pairs)  # span indices
        entities = decode_entities(keep, entity_spans, labels, scores,
                                   self.vocab.get_index_to_token_vocabulary("entity_labels"))
        relations = decode_relations(keep, pairs, pair_mask, relation_scores, entities,
                                     self.vocab.get_index_to_token_vocabulary("relation_labels"),
                                     self.relation_threshold, self.symmetric_relations)
        return decoded_output(entities, relations)

    def get_metrics(self, reset: bool = False) -> Dict[str, float]:
        metrics = super().get_metrics(reset)
        if not self.training:
            metrics.update(self.left_out.get_metric(reset))
        return metrics

    def _chunked_relation_scores(self, inputs, pairs) -> torch.Tensor:
        chunk = max(1, self.max_pairs // max(1, pairs.size(0)))
        pieces = [self._relation_logits(inputs, pairs[:, start : start + chunk]).sigmoid()
                  for start in range(0, pairs.size(1), chunk)]
        if not pieces:
            return pairs.new_zeros((*pairs.shape[:2], self.num_relation_labels), dtype=torch.float)
        return torch.cat(pieces, dim=1)


class RelationInputs(NamedTuple):
    """What the relation classifier reads about a set of candidate spans."""
    states: torch.Tensor  # the encoder's `[batch, wordpieces, dim]`, for the context between spans
    mask: torch.BoolTensor  # `[batch, wordpieces]`, the wordpieces of each sentence and its [CLS], [SEP]
    spans_repr: torch.Tensor  # `[batch, candidates, span dim]`: pooled relation view ; width embedding
    wordpiece_spans: torch.LongTensor  # `[batch, candidates, 2]`
    agent: torch.Tensor  # the relation agent `[batch, dim]`


def gold_wider_than_candidates(entity_spans: torch.LongTensor, span_mask: torch.BoolTensor,
                               metadata: List[Dict[str, Any]]) -> int:
    """How many gold entities of the batch are wider than every candidate span of their sentence:
    no candidate can match them (the reader enumerates spans up to its max_span_size)."""
    widest = ((entity_spans[..., 1] - entity_spans[..., 0]) * span_mask).max(1).values.tolist() \
        if entity_spans.size(1) else [0] * len(metadata)
    return sum(1 for limit, sentence in zip(widest, metadata)
               for start, end, _ in sentence["gold_entities"] if end - start > limit)


def _at_least_one(tensor: Optional[torch.Tensor], padding: int) -> Optional[torch.Tensor]:
    """`tensor [batch, n, ...]`, or one `padding` entry per sentence where n is 0."""
    if tensor is None or tensor.size(1):
        return tensor
    return tensor.new_full((tensor.size(0), 1, *tensor.shape[2:]), padding)


def _expand(agent: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return agent.unsqueeze(1).expand(-1, like.size(1), -1)


def agent_mask(mask: torch.BoolTensor, metadata: List[Dict[str, Any]], attend_to_context: bool) -> torch.BoolTensor:
    """The wordpieces the agents and the interaction read: the input's without [CLS], [SEP] and
    padding, or, in a context window (the metadata's `target_wordpieces`) unless
    `attend_to_context`, the target sentence's."""
    targets = [item.get("target_wordpieces") for item in metadata]
    if attend_to_context or None in targets:
        window = mask.clone()
        window[:, 0] = False  # [CLS]
        window[torch.arange(mask.size(0), device=mask.device), mask.sum(1) - 1] = False  # [SEP]
        return window
    bounds = torch.tensor(targets, dtype=torch.long, device=mask.device)
    positions = torch.arange(mask.size(1), device=mask.device)
    return (positions >= bounds[:, :1]) & (positions < bounds[:, 1:])
