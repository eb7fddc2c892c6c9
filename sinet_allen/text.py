"""Raw text to word tokens and sentences, offline: spaCy's rule-based English tokenizer and
sentencizer (no model download). The predictor and the conversion of annotated raw text both use it,
so that a model trained on converted data sees the tokenisation it sees at prediction time."""
import sys
from functools import lru_cache
from typing import List, Tuple

import spacy
from spacy.language import Language

CharSpan = Tuple[int, int]  # [start, end) in characters


@lru_cache(maxsize=None)
def english_pipeline() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.max_length = sys.maxsize  # spaCy's limit guards its parser's memory; neither pipe needs it
    return nlp


def sentence_token_spans(text: str, split_sentences: bool = True) -> List[List[CharSpan]]:
    """Per sentence, the character spans of its words. Runs of whitespace, which spaCy keeps as
    tokens, are left out (an encoder has no wordpiece for them), and so are sentences without words."""
    nlp = english_pipeline()
    doc = nlp(text) if split_sentences else nlp.make_doc(text)
    sentences = []
    for span in doc.sents if split_sentences else [doc[:]]:
        words = [(token.idx, token.idx + len(token.text)) for token in span if not token.is_space]
        if words:
            sentences.append(words)
    return sentences
