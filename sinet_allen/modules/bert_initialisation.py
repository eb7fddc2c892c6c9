"""How BERT initialises the layers it adds, which the authors' code (built on BERT's model classes)
applies to SINET's layers too."""
import torch

BERT_INITIALISER_STD = 0.02  # BERT's initializer_range


def initialise_like_bert(module: torch.nn.Module) -> None:
    """Normal weights with standard deviation 0.02 and zero biases for linear and embedding
    layers; anything else (LayerNorm) keeps PyTorch's initialisation. For `Module.apply`."""
    if isinstance(module, (torch.nn.Linear, torch.nn.Embedding)):
        torch.nn.init.normal_(module.weight, std=BERT_INITIALISER_STD)
    if isinstance(module, torch.nn.Linear) and module.bias is not None:
        torch.nn.init.zeros_(module.bias)
