"""`allennlp sinet-attention`: Figure 4 for chosen sentences of a data file, read by the model's
own reader (so their gold is known), with the weights beside each picture as JSON."""
from pathlib import Path
from typing import List, Optional, Sequence

from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from sinet_allen.files import write_json_atomically
from sinet_allen.visualization.attention_plot import draw


def attention_figures(archive_path: Path, data_path: Path, output_dir: Path, indices: Optional[Sequence[int]] = None,
                      limit: int = 5, cuda_device: int = -1) -> List[Path]:
    """For the sentences of `data_path` at `indices` (its first `limit` when None, in the file's
    order): `sentence_<i>.png`, `.svg` and `.json` (the prediction record with gold and attention)
    in `output_dir`. Returns the files written."""
    archive = load_archive(str(archive_path), cuda_device=cuda_device)
    instances = list(archive.validation_dataset_reader.read(str(data_path)))
    chosen = list(indices) if indices else list(range(min(limit, len(instances))))
    beyond = [index for index in chosen if not 0 <= index < len(instances)]
    if beyond:
        raise ValueError(f"{data_path}: no sentence at index {', '.join(map(str, beyond))}; "
                         f"the file has {len(instances)} sentences (0 to {len(instances) - 1})")
    predictor = Predictor.from_archive(archive, "sinet", extra_args={"attention": True})
    records = predictor.predict_batch_instance([instances[index] for index in chosen])
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, record in zip(chosen, records):
        stem = output_dir / f"sentence_{index}"
        written += draw(record, stem)
        write_json_atomically(stem.with_suffix(".json"), record)
        written.append(stem.with_suffix(".json"))
    return written
