"""Decoding choices that a caller may make per call, without editing the archive: one dataclass
shared by the `sinet` predictor, `allennlp sinet-extract`, `Extractor` and the server.

    DecodingOptions(overlapping_entities=False, relation_threshold=0.6, max_length=256)

A field left `None` keeps the value below it: a request's options over the call's, the call's over
the predictor's, the predictor's over the archive's (`DecodingOptions.over`).

* `overlapping_entities`: `True` keeps nested and overlapping entity spans (SINET's default),
  `False` keeps, among overlapping spans, the best-scored one (flat decoding). A model that tags
  words (CMAN) decodes flat entities only: `False` is accepted, `True` is an error.
* `relation_threshold`: the probability above which a relation is kept, between 0 and 1.
* `max_length`: sentences of more wordpieces ([CLS] and [SEP] counted) are encoded in segments of
  this many (AllenNLP's `max_length` folding), in forward passes of their own; the others are
  encoded whole. At most the encoder's limit (`max_wordpieces`, 512), which is the default unless the
  archive sets `max_length`.
"""
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Optional

MIN_SEGMENT_WORDPIECES = 8  # [CLS] and [SEP] with room for a few wordpieces each segment


class OptionError(ValueError):
    """A decoding option of the wrong type or out of range; the message names it."""


@dataclass(frozen=True)
class DecodingOptions:
    overlapping_entities: Optional[bool] = None
    relation_threshold: Optional[float] = None
    max_length: Optional[int] = None

    def __post_init__(self) -> None:
        if self.overlapping_entities is not None and not isinstance(self.overlapping_entities, bool):
            raise OptionError(f"overlapping_entities must be true or false, got {self.overlapping_entities!r}")
        threshold = self.relation_threshold
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, (int, float))
                                      or not 0.0 <= threshold <= 1.0):
            raise OptionError(f"relation_threshold must be a number from 0 to 1, got {threshold!r}")
        length = self.max_length
        if length is not None and (isinstance(length, bool) or not isinstance(length, int)
                                   or length < MIN_SEGMENT_WORDPIECES):
            raise OptionError(f"max_length must be a whole number of wordpieces, at least "
                              f"{MIN_SEGMENT_WORDPIECES}, got {length!r}")

    @classmethod
    def from_json(cls, value: Any) -> "DecodingOptions":
        """The options of a JSON object such as `{"overlapping_entities": false}`; an unknown key
        or a wrong value is an `OptionError` naming it."""
        if isinstance(value, DecodingOptions):
            return value
        if not isinstance(value, dict):
            raise OptionError(f"decoding options must be a JSON object, got {type(value).__name__}")
        known = [option.name for option in fields(cls)]
        unknown = [key for key in value if key not in known]
        if unknown:
            raise OptionError(f"unknown decoding option {unknown[0]!r}; the options are {', '.join(known)}")
        return cls(**value)

    def over(self, defaults: "DecodingOptions") -> "DecodingOptions":
        """These options, with `defaults`' values where these are `None`."""
        return DecodingOptions(**{name: given if given is not None else getattr(defaults, name)
                                  for name, given in asdict(self).items()})

    def to_json(self) -> Dict[str, Any]:
        """The options that are set, as JSON."""
        return {name: value for name, value in asdict(self).items() if value is not None}
