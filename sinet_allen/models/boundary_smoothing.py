"""Boundary smoothing (Zhu & Li, "Boundary Smoothing for Named Entity Recognition", ACL 2022): a
label smoothing for span classifiers. A gold span keeps `1 - epsilon` of its probability; `epsilon`
is spread evenly over the candidate spans whose start and end together lie within `distance` words
of it (|start - start'| + |end - end'| <= distance), as the gold's type. A gold span without such a
neighbour among the candidates keeps all its probability. Every other span's remaining probability
is on "no entity". The reader's `boundary_neighbours` puts the neighbours among the candidates."""
import torch


def smoothed_entity_targets(spans: torch.LongTensor, labels: torch.LongTensor, span_mask: torch.BoolTensor,
                            no_entity: int, num_labels: int, epsilon: float, distance: int) -> torch.Tensor:
    """Target distributions `[batch, n, num_labels]` for candidate `spans [batch, n, 2]` (words,
    end exclusive) with `labels [batch, n]`; padding (`span_mask` False) gets all zeros. A span that
    neighbours several gold spans sums their shares; where that passes 1, its row is rescaled."""
    gold = span_mask & (labels != no_entity)
    gaps = (spans.unsqueeze(2) - spans.unsqueeze(1)).abs().sum(-1)  # [batch, i, j]
    neighbours = gold.unsqueeze(2) & span_mask.unsqueeze(1) & (gaps >= 1) & (gaps <= distance)
    counts = neighbours.sum(-1, keepdim=True)  # per gold span i
    one_hot = torch.nn.functional.one_hot(labels.clamp(min=0), num_labels).to(torch.float)
    kept = torch.where(counts > 0, 1.0 - epsilon, 1.0)  # what each gold span keeps of its own label
    targets = one_hot * (gold.unsqueeze(-1) * kept)
    shares = neighbours.to(torch.float) * (epsilon / counts.clamp(min=1))  # [batch, i, j]
    targets = targets + torch.einsum("bij,bit->bjt", shares, one_hot * gold.unsqueeze(-1))
    targets = targets / targets.sum(-1, keepdim=True).clamp(min=1.0)
    targets[..., no_entity] += 1.0 - targets.sum(-1)
    return targets * span_mask.unsqueeze(-1)
