"""Attention maps of a forward pass, on request (the model's `return_attention`): the encoder's
last-layer [CLS] attention and the CTAM agents' attention, per word of each sentence.

Nothing here runs unless asked: the maps are read through PyTorch forward hooks, registered for
one forward pass and removed after it, on public modules of the model:

* the encoder: the `query` and `key` projections of the Hugging Face model's last self-attention
  layer (`encoder.layer[-1].attention.self`, BERT-style encoders), whose outputs give [CLS]'s
  attention again as `softmax(q_cls k^T / sqrt(d_head))` over the sentence's wordpieces, per head,
  then averaged over the heads (recomputed so that it does not depend on the attention kernel,
  eager or SDPA, that the encoder runs);
* CTAM: the softmax of the last `CrossTaskAttentionLayer`, whose output is each agent's weight
  over the other task's wordpieces and itself, per head.

Wordpiece-to-word rule: a word's weight is the sum of its wordpieces' weights (the attention mass
the word receives); [CLS], [SEP] and padding are left out, so a row sums to at most 1 (the
encoder's [CLS] and [SEP] keep the rest; CTAM's agent keeps `self`).
"""
from typing import Any, Dict, List, Optional

import torch
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

from sinet_allen.modules.cross_task_attention import CrossTaskAttentionLayer

WEIGHT_DECIMALS = 4
NO_CTAM = "this model has no cross-task attention (CTAM): its interaction is {}, so there are no NER-aware or RE-aware maps"


class AttentionRecorder:
    """A context manager around the encoding and the task views of one forward pass."""

    def __init__(self, embedder: torch.nn.Module, interaction: Optional[torch.nn.Module]) -> None:
        self.encoder_attention = _last_self_attention(embedder)
        ctam_layers = [m for m in (interaction.modules() if interaction else []) if isinstance(m, CrossTaskAttentionLayer)]
        self.ctam_softmax = ctam_layers[-1].softmax if ctam_layers else None
        self.no_ctam = None if ctam_layers else NO_CTAM.format(type(interaction).__name__ if interaction else "none")
        self.captured: Dict[str, torch.Tensor] = {}
        self.handles: list = []

    def __enter__(self) -> "AttentionRecorder":
        hooked = {"query": self.encoder_attention.query, "key": self.encoder_attention.key}
        if self.ctam_softmax is not None:
            hooked["ctam"] = self.ctam_softmax
        for name, module in hooked.items():
            self.handles.append(module.register_forward_hook(self._keep(name)))
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self.handles:
            handle.remove()

    def _keep(self, name: str):
        def hook(module, inputs, output):
            self.captured[name] = output.detach().float()
        return hook

    def word_maps(self, mask: torch.BoolTensor, word_ranges: List[List[List[int]]]) -> List[Dict[str, Any]]:
        """Per sentence `{"encoder": [w], "ner": {...}, "re": {...}}`, or `{"encoder": [w], "note"}`
        for a model without CTAM (no null values: AllenNLP's predictor would write them "None"), where
        `word_ranges[b]` is each word's `[start, end)` wordpiece range in sentence b."""
        encoder = self._encoder_cls_attention(mask)  # [batch, wordpieces]
        batch = mask.size(0)
        ctam = self.captured.get("ctam")  # [2 * batch, heads, wordpieces + 1]: entity agents, then relation agents
        maps = []
        for b in range(batch):
            ranges = word_ranges[b]
            sentence: Dict[str, Any] = {"encoder": _round(_to_words(encoder[b], ranges))}
            if ctam is None:
                sentence["note"] = self.no_ctam
            else:
                sentence["ner"] = _agent_map(ctam[b], ranges)
                sentence["re"] = _agent_map(ctam[batch + b], ranges)
            maps.append(sentence)
        return maps

    def _encoder_cls_attention(self, mask: torch.BoolTensor) -> torch.Tensor:
        query, key = self.captured["query"], self.captured["key"]
        if key.shape[:2] != mask.shape:
            raise ValueError("attention maps need one encoder pass per sentence; the embedder split the "
                             f"input into segments ({tuple(key.shape[:2])} for {tuple(mask.shape)} wordpieces): "
                             "unset its max_length")
        heads = self.encoder_attention.num_attention_heads
        cls_query = query[:, 0].view(query.size(0), heads, 1, -1)  # [batch, heads, 1, head_dim]
        keys = key.view(*key.shape[:2], heads, -1).transpose(1, 2)  # [batch, heads, wordpieces, head_dim]
        scores = (cls_query @ keys.transpose(2, 3)).squeeze(2) / keys.size(-1) ** 0.5
        scores = scores.masked_fill(~mask.unsqueeze(1), torch.finfo(scores.dtype).min)
        return scores.softmax(-1).mean(1)


def word_ranges(entity_spans: torch.LongTensor, wordpiece_spans: torch.LongTensor,
                lengths: List[int]) -> List[List[List[int]]]:
    """Per sentence each word's `[start, end)` wordpiece range, read off the width-one candidate
    spans (at inference every word is one)."""
    single = (entity_spans[..., 1] - entity_spans[..., 0] == 1) & (entity_spans[..., 0] >= 0)
    ranges = []
    for b, length in enumerate(lengths):
        of_word = dict(zip(entity_spans[b][single[b], 0].tolist(), wordpiece_spans[b][single[b]].tolist()))
        if len(of_word) < length:
            raise ValueError("attention maps need every word as a candidate span (an inference instance)")
        ranges.append([of_word[word] for word in range(length)])
    return ranges


def word_ranges_from_starts(word_starts: torch.LongTensor, wordpiece_mask: torch.BoolTensor,
                            metadata: List[Dict[str, Any]]) -> List[List[List[int]]]:
    """Per sentence each word's `[start, end)` wordpiece range, from the words' first wordpieces
    `word_starts` (-1 at padding): a word ends where the next begins, the last one where the
    sentence does (its `target_wordpieces` in a context window, else before the closing [SEP])."""
    ranges = []
    for starts, wordpieces, item in zip(word_starts.tolist(), wordpiece_mask.sum(1).tolist(), metadata):
        starts = starts[: len(item["tokens"])]
        end = item["target_wordpieces"][1] if "target_wordpieces" in item else wordpieces - 1
        ranges.append([[start, next_start] for start, next_start in zip(starts, starts[1:] + [end])])
    return ranges


def _last_self_attention(embedder: torch.nn.Module) -> torch.nn.Module:
    transformers = [m.transformer_model for m in embedder.modules() if isinstance(m, PretrainedTransformerEmbedder)]
    if not transformers:
        raise ValueError("attention maps need a pretrained_transformer token embedder; this model has none")
    model = transformers[0]
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    attention = getattr(getattr(layers[-1], "attention", None), "self", None) if layers else None
    if not all(hasattr(attention, name) for name in ("query", "key", "num_attention_heads")):
        raise ValueError(f"attention maps need a BERT-style encoder (encoder.layer[-1].attention.self with "
                         f"query and key projections); {type(model).__name__} has another layout")
    return attention


def _to_words(weights: torch.Tensor, ranges: List[List[int]]) -> List[float]:
    """Wordpiece weights `[wordpieces]` summed per word (the module docstring's rule)."""
    cumulative = torch.cat([weights.new_zeros(1), weights.cumsum(0)])
    starts, ends = torch.tensor(ranges, dtype=torch.long).view(-1, 2).unbind(-1)
    return (cumulative[ends] - cumulative[starts]).tolist()


def _agent_map(weights: torch.Tensor, ranges: List[List[int]]) -> Dict[str, Any]:
    """One agent's CTAM weights `[heads, wordpieces + 1]` (the agent itself last) per word."""
    heads = [_to_words(head[:-1], ranges) for head in weights]
    mean = weights.mean(0)
    return {"mean": _round(_to_words(mean[:-1], ranges)), "self": round(float(mean[-1]), WEIGHT_DECIMALS),
            "heads": [_round(head) for head in heads],
            "self_heads": _round(weights[:, -1].tolist())}


def _round(values: List[float]) -> List[float]:
    return [round(value, WEIGHT_DECIMALS) for value in values]
