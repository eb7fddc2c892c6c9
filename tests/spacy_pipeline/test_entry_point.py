"""spaCy finds the "sinet" factory through the installed package's `spacy_factories` entry point,
so a `config.cfg` or `spacy.load` can name it without `import sinet_allen`. (The entry point is
declared in setup.py: an environment installed before it was added needs `make install` again.)"""
import importlib.metadata
import subprocess
import sys
import textwrap

from conftest import REPO
from sinet_allen.spacy_pipeline.component import make_sinet_component


def test_the_installed_package_declares_the_spacy_factory():
    declared = {point.name: point for point in importlib.metadata.entry_points(group="spacy_factories")}
    assert "sinet" in declared, ("no spacy_factories entry point 'sinet' in the installed metadata: reinstall the "
                                 "package (make install, or pip install --no-deps -e .)")
    assert declared["sinet"].value == "sinet_allen.spacy_pipeline.component:make_sinet_component"
    assert declared["sinet"].load() is make_sinet_component


def test_a_fresh_process_adds_the_pipe_without_importing_the_package(fixture_archive):
    script = textwrap.dedent(f"""
        import sys, spacy
        assert "sinet_allen" not in sys.modules
        nlp = spacy.blank("en")
        nlp.add_pipe("sinet", config={{"archive": {str(fixture_archive)!r}}})
        print(type(nlp.get_pipe("sinet")).__name__, nlp.pipe_names)
    """)
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[-1] == "SinetComponent ['sinet']"
