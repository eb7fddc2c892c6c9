"""`--silent` hides third-party FutureWarnings and DeprecationWarnings raised while a command
runs, and only those: the plugin's own warnings stay visible."""
import argparse
import warnings

import pytest

from sinet_allen.commands import SinetCard, SinetCheckData, SinetExperiment, SinetSignificance
from sinet_allen.commands.silent import silence_if_asked


def shown_warnings(args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        silence_if_asked(args)
        for module in ("torch.jit._script", "transformers.tokenization_utils", "sinet_allen.models.sinet"):
            for category in (FutureWarning, DeprecationWarning):
                warnings.warn_explicit(f"{module} says", category, f"{module}.py", 1, module=module)
    return sorted({(w.category.__name__, str(w.message)) for w in caught})


@pytest.mark.parametrize("command, argv", [
    (SinetCheckData, ["data.json"]), (SinetSignificance, ["a.jsonl", "b.jsonl"]),
    (SinetExperiment, ["config.jsonnet", "--output-dir", "runs"]), (SinetCard, ["model.tar.gz"]),
])
def test_silent_hides_third_party_future_warnings_only(command, argv):
    subparser = command().add_subparser(argparse.ArgumentParser().add_subparsers())
    loud = subparser.parse_args(argv)
    quiet = subparser.parse_args([*argv, "--silent"])
    assert len(shown_warnings(loud)) == 6
    assert shown_warnings(quiet) == [("DeprecationWarning", "sinet_allen.models.sinet says"),
                                     ("FutureWarning", "sinet_allen.models.sinet says")]
