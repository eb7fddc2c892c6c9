"""The plugin is found from any folder once registered: `allennlp sinet-*` sub-commands are built
before `--include-package` is read, so the per-user plugins file must name the plugin."""
import os
import re
import subprocess
import sys
from pathlib import Path

from conftest import REPO

from sinet_allen.plugin_file import PLUGIN, register, unregister

ALLENNLP = Path(sys.executable).parent / "allennlp"


def run(command, cwd, home):
    env = {**os.environ, "HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_after_registration_the_commands_work_outside_the_checkout(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    registered = run([sys.executable, "-m", "sinet_allen.plugin_file"], elsewhere, home)
    assert registered.returncode == 0, registered.stderr
    assert (home / ".allennlp" / "plugins").read_text() == f"{PLUGIN}\n"
    helped = run([str(ALLENNLP), "sinet-extract", "--help"], elsewhere, home)
    assert helped.returncode == 0, helped.stderr[-2000:]
    assert "usage: allennlp sinet-extract" in helped.stdout


def test_registration_keeps_other_plugins_and_is_undone(tmp_path):
    plugins_file = tmp_path / ".allennlp" / "plugins"
    plugins_file.parent.mkdir()
    plugins_file.write_text("allennlp_other\n")
    assert register(plugins_file) and not register(plugins_file)
    assert plugins_file.read_text() == f"allennlp_other\n{PLUGIN}\n"
    assert unregister(plugins_file) and not unregister(plugins_file)
    assert plugins_file.read_text() == "allennlp_other\n"


def test_make_install_registers_the_plugin():
    recipe = (REPO / "Makefile").read_text()
    install = re.search(r"^\$\(STAMP\):.*?(?=^\S)", recipe, re.M | re.S).group(0)
    assert "-m sinet_allen.plugin_file\n" in install
