"""What a conversion changed or left out, so that nothing is lost without a word."""
import logging
from collections import Counter, defaultdict
from typing import Dict, List

from sinet_allen.schema import FormatError

logger = logging.getLogger(__name__)

NAMES_SHOWN = 10  # per reason, so that a report on a large corpus stays readable


class ConversionReport:
    """Collects, per reason, the annotations dropped or changed (each named by file and line), the
    things only counted (brat events, attributes, split tokens), and the bad records skipped."""

    def __init__(self, skip_bad: bool = False) -> None:
        self.skip_bad = skip_bad
        self.dropped: Dict[str, List[str]] = defaultdict(list)
        self.changed: Dict[str, List[str]] = defaultdict(list)
        self.counts: Counter = Counter()
        self.skipped: List[str] = []

    def bad(self, message: str) -> None:
        """A record that cannot be converted: an error, or with `skip_bad` a counted warning."""
        if not self.skip_bad:
            raise FormatError(message)
        logger.warning("skipping: %s", message)
        self.skipped.append(message)

    def drop(self, reason: str, item: str) -> None:
        self.dropped[reason].append(item)

    def change(self, reason: str, item: str) -> None:
        self.changed[reason].append(item)

    def count(self, what: str, number: int = 1) -> None:
        self.counts[what] += number

    def lines(self) -> List[str]:
        lines = [f"skipped {len(self.skipped)} bad record(s):"] if self.skipped else []
        lines += [f"  {message}" for message in self.skipped]
        for title, table in (("dropped", self.dropped), ("changed", self.changed)):
            for reason, items in table.items():
                lines.append(f"{title} {len(items)}: {reason}")
                lines += [f"  {item}" for item in items[:NAMES_SHOWN]]
                if len(items) > NAMES_SHOWN:
                    lines.append(f"  ... and {len(items) - NAMES_SHOWN} more")
        lines += [f"counted {number}: {what}" for what, number in self.counts.items()]
        return lines
