"""CTAM: the cross-task attention module of SINET."""
import torch
from allennlp.common.checks import ConfigurationError

from sinet_allen.modules.task_interaction import TaskInteraction, TaskViews

TARGETS = {"none": (False, False), "ner": (True, False), "re": (False, True), "both": (True, True)}


class CrossTaskAttentionLayer(torch.nn.Module):
    """One step: a task's agent (the query) attends over the other task's tokens plus itself.

    `LN(softmax(q k^T / sqrt(d/h)) v + query)`, with W_q, W_k, W_v shared by both directions; with
    `output_projection`, `LN(dropout(W_o (softmax(q k^T / sqrt(d/h)) v) + b_o) + query)` as in the
    authors' code.
    """

    def __init__(self, input_dim: int, num_heads: int, attention_dropout: float, layer_norm: bool,
                 output_projection: bool = False, projection_dropout: float = 0.2):
        super().__init__()
        if input_dim % num_heads:
            raise ConfigurationError(f"CTAM: input_dim {input_dim} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.query = torch.nn.Linear(input_dim, input_dim, bias=False)
        self.key = torch.nn.Linear(input_dim, input_dim, bias=False)
        self.value = torch.nn.Linear(input_dim, input_dim, bias=False)
        # A module rather than a call, so the weights can be read by a forward hook (attention maps).
        self.softmax = torch.nn.Softmax(dim=-1)
        self.dropout = torch.nn.Dropout(attention_dropout)
        self.norm = torch.nn.LayerNorm(input_dim) if layer_norm else torch.nn.Identity()
        self.projection = torch.nn.Linear(input_dim, input_dim) if output_projection else None
        self.projection_dropout = torch.nn.Dropout(projection_dropout)

    def forward(self, agent: torch.Tensor, other_states: torch.Tensor, other_mask: torch.BoolTensor):
        batch, dim = agent.shape
        head_dim = dim // self.num_heads
        memory = torch.cat([other_states, agent.unsqueeze(1)], dim=1)  # [batch, keys, dim]
        # The agent itself is always a valid key, so no row is fully masked.
        key_mask = torch.cat([other_mask, other_mask.new_ones(batch, 1)], dim=1)
        # A single query per sentence: instead of projecting every key and value (keys x dim^2),
        # the query goes into the memory's space and the attention-weighted memory is projected
        # once, since q.(W_k m) = (W_k^T q).m and sum_i a_i W_v m_i = W_v sum_i a_i m_i per head.
        # Heads first, so that each product is one batched matrix product per head.
        query = self.query(agent).view(batch, self.num_heads, head_dim).transpose(0, 1)
        query_in_memory = (query @ self._per_head(self.key.weight)).transpose(0, 1)  # [batch, heads, dim]
        scores = query_in_memory @ memory.transpose(1, 2) / head_dim ** 0.5  # [batch, heads, keys]
        scores = scores.masked_fill(~key_mask.unsqueeze(1), torch.finfo(scores.dtype).min)
        pooled = self.dropout(self.softmax(scores)) @ memory  # [batch, heads, dim]
        attended = pooled.transpose(0, 1) @ self._per_head(self.value.weight).transpose(1, 2)  # [heads, batch, head_dim]
        attended = attended.transpose(0, 1).reshape(batch, dim)
        if self.projection is not None:  # one [batch, dim] product: nothing to gain from folding it in
            attended = self.projection_dropout(self.projection(attended))
        return self.norm(attended + agent)

    def _per_head(self, weight: torch.Tensor) -> torch.Tensor:
        """`[dim, dim]` projection weight -> `[heads, head_dim, dim]`: head h's output rows."""
        return weight.view(self.num_heads, -1, weight.size(1))


@TaskInteraction.register("cross_task_attention")
class CrossTaskAttention(TaskInteraction):
    """CTAM (the paper's Eq. 3): each task's agent attends over the other task's token states plus
    itself, with a residual and LayerNorm; the paper's settings are the defaults.

    # Parameters

    input_dim : `int`
        The size of the token states and agents; the model passes its encoder's output size.
    num_heads : `int`, optional (default = `4`)
        Attention heads; `input_dim` must be divisible by it.
    num_layers : `int`, optional (default = `1`)
        CTAM layers stacked, each taking the previous layer's agents as its queries (the paper's
        depth D; the authors' code has one layer).
    attention_dropout : `float`, optional (default = `0.2`)
        Dropout on the attention weights.
    layer_norm : `bool`, optional (default = `True`)
        LayerNorm after the residual (Table 3 compares it with none).
    targets : `str`, optional (default = `"both"`)
        Which classifiers receive the attended agent: `"both"` (SINET), `"ner"` or `"re"` (the
        CTAM_NER and CTAM_RE ablations), or `"none"`.
    output_projection : `bool`, optional (default = `False`)
        A d x d linear layer with bias, then dropout, on the attended vector before the residual,
        as in the authors' code (`proj`, `proj_drop`); Eq. 3 has none (docs/fidelity.md).
    projection_dropout : `float`, optional (default = `0.2`)
        The dropout after the output projection (the authors' value); unused without it.
    """

    def __init__(
        self,
        input_dim: int,
        num_heads: int = 4,
        num_layers: int = 1,
        attention_dropout: float = 0.2,
        layer_norm: bool = True,
        targets: str = "both",
        output_projection: bool = False,
        projection_dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if targets not in TARGETS:
            raise ConfigurationError(f"CTAM targets must be one of {sorted(TARGETS)}, got {targets!r}")
        self.update_entity, self.update_relation = TARGETS[targets]
        self.layers = torch.nn.ModuleList(
            CrossTaskAttentionLayer(input_dim, num_heads, attention_dropout, layer_norm, output_projection,
                                    projection_dropout)
            for _ in range(num_layers)
        )

    def forward(self, views: TaskViews, sentence_mask: torch.BoolTensor) -> TaskViews:
        entity_agent, relation_agent = views.entity_agent, views.relation_agent
        # Both directions share the weights, so they run as one batch of twice the size.
        other_states = torch.cat([views.relation_states, views.entity_states])
        other_mask = sentence_mask.repeat(2, 1)
        for layer in self.layers:
            # Both directions read the previous layer's agents.
            agents = layer(torch.cat([entity_agent, relation_agent]), other_states, other_mask)
            entity_agent, relation_agent = agents.chunk(2)
        return views._replace(
            entity_agent=entity_agent if self.update_entity else views.entity_agent,
            relation_agent=relation_agent if self.update_relation else views.relation_agent,
        )
