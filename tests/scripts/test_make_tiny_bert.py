"""The committed tiny BERT: loads offline, is small, covers the fixture words, is reproducible."""
import json
import subprocess
import sys

from transformers import AutoModel, AutoTokenizer

from conftest import FIXTURE_DATA, REPO, TINY_BERT as TINY


def test_loads_offline_and_is_small():
    assert sum(p.stat().st_size for p in TINY.iterdir()) < 1_000_000
    tokenizer = AutoTokenizer.from_pretrained(TINY, local_files_only=True)
    model = AutoModel.from_pretrained(TINY, local_files_only=True)
    assert tokenizer.is_fast and type(tokenizer).__name__ == "BertTokenizerFast"
    assert tokenizer.model_max_length == 512
    assert (model.config.hidden_size, model.config.num_hidden_layers) == (32, 2)
    encoded = tokenizer("Kernel methods", return_tensors="pt")
    assert model(**encoded).last_hidden_state.shape == (1, 4, 32)


def test_fixture_words_tokenize_without_unknowns_and_case_is_kept():
    tokenizer = AutoTokenizer.from_pretrained(TINY, local_files_only=True)
    for split in ("train", "dev", "test"):
        for record in json.loads((FIXTURE_DATA / f"spert/{split}.json").read_text()):
            assert tokenizer.unk_token not in tokenizer.tokenize(" ".join(record["tokens"]))
    assert tokenizer.tokenize("BLEU bleu") == ["BLEU", "b", "##l", "##e", "##u"]
    assert tokenizer.tokenize("part-of-speech") == ["part", "-", "of", "-", "speech"]


def test_regenerating_gives_identical_files(tmp_path):
    subprocess.run([sys.executable, str(REPO / "scripts/make_tiny_bert.py"), "--output",
                    str(tmp_path)], check=True, capture_output=True)
    for name in ("config.json", "vocab.txt", "tokenizer_config.json", "model.safetensors"):
        assert (tmp_path / name).read_bytes() == (TINY / name).read_bytes(), name
