"""Shared paths and fixtures. Tests run from the repository root, on CPU, without network."""
import os
import sys
from pathlib import Path

# Read before `import sinet_allen` fills in its default (../shared/data) for the configs.
USER_DATA_DIR = os.environ.get("SINET_DATA_DIR")
# The tiny fixture model gains nothing from threads, and test subprocesses (distributed workers,
# allennlp commands) would otherwise oversubscribe the cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest

import sinet_allen  # noqa: F401  registers the components and the configs' environment defaults
from allennlp.commands import main  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
TINY_BERT = FIXTURES / "tiny_bert"
FIXTURE_DATA = FIXTURES / "data"
FIXTURE_CONFIG = FIXTURES / "sinet_fixture.jsonnet"
CMAN_CONFIG = FIXTURES / "cman_fixture.jsonnet"

os.chdir(REPO)  # the fixture config's paths are relative to the repository root


def real_data_dir() -> Path:
    """The real data root: $SINET_DATA_DIR, else ../shared/data beside the checkout."""
    return Path(USER_DATA_DIR or REPO.parent / "shared" / "data")


def require_real_data(*relative: str) -> Path:
    """Skips the calling test, saying why, when a real data file is absent."""
    root = real_data_dir()
    for name in relative:
        if not (root / name).exists():
            pytest.skip(f"real data file {root / name} is absent (set SINET_DATA_DIR to the data root)")
    return root


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread for a module of tiny-model tests: they gain nothing from threads, and on a
    shared two-core machine threads cost a lot of waiting (the module runs about twice as fast)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def fixture_archive(tmp_path_factory) -> Path:
    """A SINET model trained for two epochs on the fixture data and archived (model.tar.gz)."""
    from allennlp.commands.train import train_model_from_file

    serialization_dir = tmp_path_factory.mktemp("fixture_model")
    train_model_from_file(str(FIXTURE_CONFIG), str(serialization_dir), force=True)
    return serialization_dir / "model.tar.gz"


@pytest.fixture(scope="session")
def eager_archive(fixture_archive, tmp_path_factory):
    """The fixture archive with a model that calls every span a Method (the barely trained model
    finds no entity), so that there are predictions to write and to count."""
    def call_every_span_a_method(weights, vocabulary):
        weights["entity_classifier.bias"][vocabulary.get_token_index("Method", "entity_labels")] = 100.0

    return archive_with_weights(fixture_archive, tmp_path_factory.mktemp("eager_model"), call_every_span_a_method)


def archive_with_weights(source: Path, folder: Path, edit) -> Path:
    """A copy of the archive `source` in `folder` whose weights `edit(weights, vocabulary)` changed."""
    import tarfile

    import torch
    from allennlp.models.archival import load_archive

    with tarfile.open(source) as archive:
        archive.extractall(folder, filter="data")
    weights = torch.load(folder / "weights.th")
    edit(weights, load_archive(str(source)).model.vocab)
    torch.save(weights, folder / "weights.th")
    with tarfile.open(folder / "model.tar.gz", "w:gz") as archive:
        for name in ("config.json", "weights.th", "vocabulary", "meta.json"):
            archive.add(folder / name, arcname=name)
    return folder / "model.tar.gz"


@pytest.fixture(scope="session")
def graded_archive(fixture_archive, tmp_path_factory):
    """The fixture archive with a model that calls nearly every span a Method, with scores that
    differ from span to span (the eager model's are all 1.0: ties, which a top-k choice such as
    `max_relation_entities` breaks by position, so a batch's padding could change the choice)."""
    def favour_method(weights, vocabulary):
        weights["entity_classifier.bias"][vocabulary.get_token_index("Method", "entity_labels")] = 3.0

    return archive_with_weights(fixture_archive, tmp_path_factory.mktemp("graded_model"), favour_method)


def sinet_extract(monkeypatch, *arguments) -> int:
    """`allennlp sinet-extract` in this process; its exit status."""
    monkeypatch.setattr(sys, "argv", ["allennlp", "sinet-extract", *map(str, arguments)])
    try:
        main()
    except SystemExit as exit:
        return exit.code
    return 0
