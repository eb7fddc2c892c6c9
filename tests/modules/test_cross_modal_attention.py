"""CMAN's attention units: padding and batch independence, label information reaching the words,
an empty sentence without NaN, and the shared first unit being the stack's own first unit."""
import torch

from sinet_allen.modules.cross_modal_attention import CrossModalAttention

DIM = 8


def stack() -> CrossModalAttention:
    torch.manual_seed(0)
    return CrossModalAttention(DIM, num_heads=2, num_layers=2, dropout=0.0).eval()


def through(attention: CrossModalAttention, tokens, labels, mask):
    return attention(attention.read_tokens(tokens, mask), labels, mask)


def test_the_shared_first_unit_is_the_stack_run_layer_by_layer():
    attention = stack()
    tokens, labels = torch.randn(2, 4, DIM), torch.randn(2, 4, DIM)
    mask = torch.tensor([[True] * 4, [True] * 3 + [False]])
    layer_by_layer = tokens
    for layer in attention.layers:
        layer_by_layer = layer(layer_by_layer, labels, ~mask)
    torch.testing.assert_close(through(attention, tokens, labels, mask), layer_by_layer)


def test_words_do_not_depend_on_padding():
    attention = stack()
    tokens, labels = torch.randn(1, 4, DIM), torch.randn(1, 4, DIM)
    alone = through(attention, tokens, labels, torch.ones(1, 4, dtype=torch.bool))
    padded = through(attention, torch.cat([tokens, torch.randn(1, 3, DIM)], 1),
                     torch.cat([labels, torch.randn(1, 3, DIM)], 1), torch.tensor([[True] * 4 + [False] * 3]))
    torch.testing.assert_close(padded[:, :4], alone)


def test_a_words_label_reaches_the_other_words():
    attention = stack()
    tokens, labels = torch.randn(1, 5, DIM), torch.randn(1, 5, DIM)
    mask = torch.ones(1, 5, dtype=torch.bool)
    changed = labels.clone()
    changed[0, 4] = torch.randn(DIM)
    before, after = through(attention, tokens, labels, mask), through(attention, tokens, changed, mask)
    assert not torch.allclose(before[0, 0], after[0, 0])  # word 0 read word 4's label


def test_an_empty_sentence_gives_no_nan():
    attention = stack()
    output = through(attention, torch.randn(2, 3, DIM), torch.randn(2, 3, DIM), torch.tensor([[True] * 3, [False] * 3]))
    assert torch.isfinite(output).all()
