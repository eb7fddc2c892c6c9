#!/usr/bin/env python
"""Lay out ACE04's five-fold cross-validation for the sinet_ace04 config.

    python scripts/make_ace04_folds.py SPLIT_0 SPLIT_1 SPLIT_2 SPLIT_3 SPLIT_4 --output-dir $SINET_DATA_DIR/ace04

Takes the five document splits that the public DyGIE++ ACE04 preprocessing writes (DyGIE-style JSON
lines) and writes fold{K}/{train,dev,test}.json: fold K tests on split K and trains on the other
four, of whose documents a seeded random 15% are held out as dev (as in the SINET paper).
"""
import argparse
import random
from pathlib import Path
from typing import List

from sinet_allen.dataset_readers.formats import read_sentences, write_dygie
from sinet_allen.schema import Sentence

DEV_FRACTION = 0.15


def documents(path: Path) -> List[List[Sentence]]:
    """The file's documents, each a list of its sentences, in file order."""
    grouped: dict = {}
    for sentence in read_sentences(path, format="dygie"):
        grouped.setdefault(sentence.doc_key, []).append(sentence)
    return list(grouped.values())


def write_fold(splits: List[List[List[Sentence]]], fold: int, output: Path, seed: int) -> None:
    training = [doc for index, split in enumerate(splits) if index != fold for doc in split]
    random.Random(seed + fold).shuffle(training)
    num_dev = round(DEV_FRACTION * len(training))
    parts = {"train": training[num_dev:], "dev": training[:num_dev], "test": splits[fold]}
    folder = output / f"fold{fold}"
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in parts.items():
        write_dygie([sentence for doc in docs for sentence in doc], folder / f"{name}.json")
        print(f"{folder / name}.json: {len(docs)} documents")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("splits", type=Path, nargs=5, help="the five DyGIE-style document splits")
    parser.add_argument("--output-dir", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=13, help="seeds the dev hold-out")
    args = parser.parse_args(argv)
    splits = [documents(path) for path in args.splits]
    for fold in range(len(splits)):
        write_fold(splits, fold, args.output_dir, args.seed)


if __name__ == "__main__":
    main()
