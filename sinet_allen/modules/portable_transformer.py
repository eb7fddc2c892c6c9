"""An encoder an archive can carry: the encoder's configuration and tokenizer files (no weights:
those are in the model's state) saved in the serialization folder under `encoder/`, and used at
load time when the folder the config names is gone (another machine, a moved encoder) or the
config names a Hugging Face model (no download).

Training writes the copy (the `archive_extras` callback, sinet_allen/training/archive_extras.py),
the configs archive it (`include_in_archive: ["encoder"]`), and the reader and the
`portable_transformer` embedder read it. Both learn the folder from AllenNLP itself: it hands
`serialization_dir` to every component it builds, the training folder in training and the
unpacked archive when an archive is loaded.
"""
import os
from pathlib import Path
from typing import Optional, Tuple

from allennlp.common.checks import ConfigurationError
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder, TokenEmbedder

ENCODER_FOLDER = "encoder"
OVERRIDE = ('-o \'{"model.embedder.token_embedders.tokens.model_name": "PATH", '
            '"dataset_reader.transformer_model": "PATH", "validation_dataset_reader.transformer_model": "PATH"}\'')


def encoder_source(model_name: str, serialization_dir: Optional[str]) -> Tuple[str, bool]:
    """Where to read the encoder from, and whether that is the archived copy (without weights):
    `model_name` when it is a local folder, else the copy in `serialization_dir` when there is one,
    else `model_name` (a Hugging Face name). A local-looking path that exists nowhere is an error
    that names the override."""
    if os.path.isdir(model_name):
        return model_name, False
    copy = Path(serialization_dir or "") / ENCODER_FOLDER
    if serialization_dir and (copy / "config.json").is_file():
        return str(copy), True
    if os.path.isabs(model_name) or model_name.startswith(".") or model_name.count("/") > 1:  # no hub name
        raise ConfigurationError(
            f"the encoder folder {model_name!r} does not exist and the model archive holds no copy of the "
            f"encoder's configuration (archives trained before 2026-12-07 do not); give the encoder with {OVERRIDE}")
    return model_name, False


def save_encoder_files(model_name: str, folder: Path) -> None:
    """The encoder's configuration and tokenizer files in `folder`, built without loading weights."""
    from transformers import AutoConfig, AutoTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    AutoConfig.from_pretrained(model_name).save_pretrained(folder)
    AutoTokenizer.from_pretrained(model_name).save_pretrained(folder)


@TokenEmbedder.register("portable_transformer")
class PortableTransformerEmbedder(PretrainedTransformerEmbedder):
    """AllenNLP's `pretrained_transformer` embedder that a model archive can carry: when the
    encoder `model_name` names is not a local folder and the archive holds a copy of its
    configuration (see the module's doc), the encoder is built from that copy, without loading
    pretrained weights, which the archive's model state replaces anyway.

    Registered as a `TokenEmbedder` with name "portable_transformer".

    # Parameters

    model_name : `str`
        The encoder's Hugging Face name or local folder, as for `pretrained_transformer`.
    serialization_dir : `str`, optional (default = `None`)
        Given by AllenNLP: the training folder, or the unpacked archive being loaded.
    **kwargs
        Everything else `pretrained_transformer` takes (`max_length`, `transformer_kwargs`, ...).
    """

    def __init__(self, model_name: str, serialization_dir: Optional[str] = None, **kwargs) -> None:
        source, archived = encoder_source(model_name, serialization_dir)
        if archived:
            kwargs["load_weights"] = False
        super().__init__(source, **kwargs)
        self.model_name = model_name  # as the config names it, for the copy and the model card
