"""What a model archive carries besides AllenNLP's config, weights and vocabulary: the encoder's
configuration and tokenizer files (`encoder/`, sinet_allen/modules/portable_transformer.py) and
the model card (`model_card.md`, sinet_allen/model_card.py)."""
from pathlib import Path
from typing import Any, Dict, Optional

from allennlp.training.callbacks import TrainerCallback

from sinet_allen.model_card import write_card
from sinet_allen.modules.portable_transformer import ENCODER_FOLDER, PortableTransformerEmbedder, save_encoder_files


@TrainerCallback.register("archive_extras")
class ArchiveExtras(TrainerCallback):
    """Writes into the serialization folder, for the archive to carry, the configuration and
    tokenizer files of every `portable_transformer` encoder of the model (when training starts)
    and the model card (when it ends, with the validation figures the model was selected by). The
    config archives them with `include_in_archive: ["encoder", "model_card.md"]`.

    Registered as a `TrainerCallback` with name "archive_extras".

    # Parameters

    serialization_dir : `str`
        Given by `allennlp train`: the run's folder.
    """

    def __init__(self, serialization_dir: str) -> None:
        super().__init__(serialization_dir)

    def on_start(self, trainer, is_primary: bool = True, **kwargs) -> None:
        super().on_start(trainer, is_primary, **kwargs)
        if not is_primary:
            return
        for module in trainer.model.modules():
            if isinstance(module, PortableTransformerEmbedder):
                save_encoder_files(module.model_name, Path(self.serialization_dir) / ENCODER_FOLDER)

    def on_end(self, trainer, metrics: Optional[Dict[str, Any]] = None, epoch: Optional[int] = None,
               is_primary: bool = True, **kwargs) -> None:
        if is_primary:
            write_card(Path(self.serialization_dir), metrics or {})
