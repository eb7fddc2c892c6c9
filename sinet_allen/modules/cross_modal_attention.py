"""CMAN's attention units (Zhao et al., IJCAI 2020), our own implementation (no public code exists):
a token-to-token unit and a label-to-token unit, stacked in depth over one token stream.

Each unit is multi-head attention followed by a position-wise feed-forward network, each with a
residual connection and LayerNorm (a post-norm transformer layer). The token-to-token unit is
self-attention over the words. In the label-to-token unit the words attend over the sentence's
labelled words: keys are a word's state plus its label's embedding (where to look: which word,
with which label), values the label embedding alone (what flows: label information). So the
first unit moves token information between words and the second moves label information to them.
"""
import torch


class AttentionUnit(torch.nn.Module):
    """Attention of `queries [batch, n, dim]` over `keys` and `values [batch, n, dim]`, then a
    feed-forward network, each with a residual connection onto the queries and LayerNorm."""

    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.attention = torch.nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.attention_norm = torch.nn.LayerNorm(dim)
        self.feedforward = torch.nn.Sequential(
            torch.nn.Linear(dim, 4 * dim), torch.nn.GELU(), torch.nn.Dropout(dropout), torch.nn.Linear(4 * dim, dim)
        )
        self.feedforward_norm = torch.nn.LayerNorm(dim)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, queries: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                padding: torch.BoolTensor) -> torch.Tensor:
        attended, _ = self.attention(queries, keys, values, key_padding_mask=padding, need_weights=False)
        states = self.attention_norm(queries + self.dropout(attended))
        return self.feedforward_norm(states + self.dropout(self.feedforward(states)))


class CrossModalLayer(torch.nn.Module):
    """A token-to-token unit, then a label-to-token unit."""

    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        self.token_to_token = AttentionUnit(dim, num_heads, dropout)
        self.label_to_token = AttentionUnit(dim, num_heads, dropout)

    def forward(self, tokens: torch.Tensor, labels: torch.Tensor, padding: torch.BoolTensor) -> torch.Tensor:
        return self.read_labels(self.read_tokens(tokens, padding), labels, padding)

    def read_tokens(self, tokens: torch.Tensor, padding: torch.BoolTensor) -> torch.Tensor:
        return self.token_to_token(tokens, tokens, tokens, padding)

    def read_labels(self, tokens: torch.Tensor, labels: torch.Tensor, padding: torch.BoolTensor) -> torch.Tensor:
        return self.label_to_token(tokens, tokens + labels, labels, padding)


class CrossModalAttention(torch.nn.Module):
    """`num_layers` `CrossModalLayer`s over word states `[batch, words, dim]` and the embeddings of
    the words' labels `[batch, words, dim]`; keys are the sentence's words only, so a word's output
    depends neither on padding nor on the batch.

    The first token-to-token unit sees no label, so passes over the same words with different
    labels can share its output: `read_tokens` computes it once and `forward` starts from it."""

    def __init__(self, dim: int, num_heads: int, num_layers: int, dropout: float) -> None:
        super().__init__()
        self.layers = torch.nn.ModuleList(CrossModalLayer(dim, num_heads, dropout) for _ in range(num_layers))

    def read_tokens(self, tokens: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """The first token-to-token unit's output: the part of the stack that no label reaches."""
        return self.layers[0].read_tokens(tokens, ~mask)

    def forward(self, read: torch.Tensor, labels: torch.Tensor, mask: torch.BoolTensor) -> torch.Tensor:
        """The stack's output with these `labels`, from `read_tokens`' output for the words."""
        padding = ~mask
        tokens = self.layers[0].read_labels(read, labels, padding)
        for layer in self.layers[1:]:
            tokens = layer(tokens, labels, padding)
        return tokens
