#!/usr/bin/env python
"""Download the public data sets from their official sources into $SINET_DATA_DIR (default ../shared/data,
as for training: sinet_allen/settings.py).

    python scripts/fetch_data.py [--datasets scierc conll04 ade scierc_dygie] [--dry-run]

SciERC, CoNLL04 and ADE come in SpERT-style JSON from the SpERT authors' public release, laid out as
scierc/{train,dev,test,types}.json, conll04/{...}.json and
ade/{split_0..9_train,split_0..9_test,full,types}.json. `scierc_dygie` (not fetched by default: a
~700 MB archive that bundles ELMo embeddings) extracts SciERC's own DyGIE-style release into
scierc_dygie/{train,dev,test}.jsonl. Files already present are skipped, so an interrupted run can
simply be repeated.
"""
import argparse
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, NamedTuple, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # a checkout without pip install
from sinet_allen.files import atomic_output  # noqa: E402
from sinet_allen.settings import DEFAULT_DATA_DIR  # noqa: E402

SPERT_URL = "http://lavis.cs.hs-rm.de/storage/spert/public/datasets"
SCIERC_ARCHIVE_URL = "http://nlp.cs.washington.edu/sciIE/data/sciERC_processed.tar.gz"
DEFAULT_DATASETS = ["scierc", "conll04", "ade"]


class Source(NamedTuple):
    url: str
    member: Optional[str] = None  # file inside a .tar.gz archive


def plan(spert_url: str = SPERT_URL,
         archive_url: str = SCIERC_ARCHIVE_URL) -> Dict[str, Dict[str, Source]]:
    """Data set -> {path relative to the data folder: where it comes from}."""

    def spert(name, parts):
        # The release prefixes every file with the data set's name: scierc/scierc_train.json.
        return {f"{name}/{part}.json": Source(f"{spert_url}/{name}/{name}_{part}.json")
                for part in parts}

    folds = [f"split_{k}_{part}" for k in range(10) for part in ("train", "test")]
    return {
        "scierc": spert("scierc", ["train", "dev", "test", "types"]),
        "conll04": spert("conll04", ["train", "dev", "test", "types"]),
        "ade": spert("ade", folds + ["full", "types"]),
        "scierc_dygie": {f"scierc_dygie/{split}.jsonl": Source(archive_url,
                                                                f"processed_data/json/{split}.json")
                         for split in ("train", "dev", "test")},
    }


def check_json(path: Path, lines: bool) -> None:
    """Refuse what is not JSON (e.g. an HTML error page served with status 200)."""
    with open(path, encoding="utf-8") as f:
        if lines:
            for line in f:
                if line.strip():
                    json.loads(line)
        else:
            json.load(f)


def install(fetch, target: Path, origin: str) -> None:
    """Writes through a temporary file checked as JSON before it replaces `target`."""
    with atomic_output(target, binary=True) as out:
        fetch(out)
        out.flush()
        try:
            check_json(Path(out.name), lines=target.suffix == ".jsonl")
        except ValueError as e:
            raise ValueError(f"{origin} is not valid JSON ({e})") from None


def download(url: str, out, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        shutil.copyfileobj(response, out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path,
                        default=Path(os.environ.get("SINET_DATA_DIR", DEFAULT_DATA_DIR)),
                        help=f"target folder (default: $SINET_DATA_DIR, else ./{DEFAULT_DATA_DIR})")
    parser.add_argument("--datasets", nargs="+", default=DEFAULT_DATASETS,
                        choices=list(plan()), help="default: %(default)s")
    parser.add_argument("--dry-run", action="store_true", help="only print what would be fetched")
    parser.add_argument("--spert-url", default=SPERT_URL, help="base URL of the SpERT release")
    parser.add_argument("--scierc-archive-url", default=SCIERC_ARCHIVE_URL)
    parser.add_argument("--timeout", type=float, default=60, help="seconds per network read")
    args = parser.parse_args(argv)

    todo = []
    for name in args.datasets:
        for relative, source in plan(args.spert_url, args.scierc_archive_url)[name].items():
            target = args.data_dir / relative
            if target.exists():
                print(f"present, skipped: {target}")
            else:
                todo.append((target, source))
    if args.dry_run:
        for target, source in todo:
            print(f"would fetch: {describe(source)} -> {target}")
        print(f"{len(todo)} file(s) to fetch into {args.data_dir}")
        return 0

    archives: Dict[str, Path] = {}  # one download per archive, shared by its members
    current = ""
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".fetch-", dir=args.data_dir) as scratch:
            for target, source in todo:
                current = describe(source)
                print(f"fetching: {current} -> {target}", flush=True)
                if source.member is None:
                    install(lambda out: download(source.url, out, args.timeout), target, current)
                    continue
                if source.url not in archives:
                    archives[source.url] = Path(scratch) / f"archive-{len(archives)}.tar.gz"
                    with open(archives[source.url], "wb") as out:
                        download(source.url, out, args.timeout)
                with tarfile.open(archives[source.url]) as tar:
                    member = tar.extractfile(source.member)  # KeyError when it is missing
                    if member is None:
                        raise OSError(f"{source.member} is not a regular file")
                    install(lambda out: shutil.copyfileobj(member, out), target, current)
    except urllib.error.HTTPError as e:
        return fail(current, f"HTTP {e.code} {e.reason}")
    except urllib.error.URLError as e:
        return fail(current, f"could not reach the server ({e.reason}); check your internet "
                             "connection or proxy settings")
    except (OSError, ValueError, KeyError, tarfile.TarError) as e:  # disk, bad content, archive
        return fail(current, f"{type(e).__name__}: {e}")
    print(f"done: {len(todo)} file(s) fetched into {args.data_dir}")
    return 0


def describe(source: Source) -> str:
    return source.url + (f" [{source.member}]" if source.member else "")


def fail(what: str, problem: str) -> int:
    print(f"error: fetching {what} failed: {problem}\n"
          "Files fetched so far are kept; run the script again to resume.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
