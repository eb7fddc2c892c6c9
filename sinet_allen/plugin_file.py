"""Registers the plugin in AllenNLP's per-user plugins file, so that `allennlp sinet-*` and every
registered component work from any folder: `python -m sinet_allen.plugin_file` (`make install`
runs it), `python -m sinet_allen.plugin_file --remove` to undo.

Why a file: AllenNLP 2.10 builds its list of sub-commands from the plugins it finds before it reads
`--include-package`, so that flag can load components but never a sub-command. It finds plugins in
`.allennlp_plugins` of the working folder (the repository has one), in the per-user file
`~/.allennlp/plugins`, and in a fixed list of its own packages. The per-user file is read by every
`allennlp` this user runs, in every Python environment: where `sinet_allen` is not installed,
AllenNLP logs one error line (`Plugin sinet_allen could not be loaded`) and goes on without it.
"""
import argparse
from pathlib import Path
from typing import List

from allennlp.common.plugins import GLOBAL_PLUGINS_FILENAME

PLUGIN = "sinet_allen"


def listed_plugins(plugins_file: Path) -> List[str]:
    """The module names the plugins file lists (none when it does not exist)."""
    if not plugins_file.is_file():
        return []
    return [line.strip() for line in plugins_file.read_text(encoding="utf-8").splitlines() if line.strip()]


def register(plugins_file: Path = Path(GLOBAL_PLUGINS_FILENAME)) -> bool:
    """Adds the plugin to `plugins_file`, keeping what it lists; False when it was listed already."""
    plugins = listed_plugins(plugins_file)
    if PLUGIN in plugins:
        return False
    plugins_file.parent.mkdir(parents=True, exist_ok=True)
    plugins_file.write_text("".join(f"{name}\n" for name in plugins + [PLUGIN]), encoding="utf-8")
    return True


def unregister(plugins_file: Path = Path(GLOBAL_PLUGINS_FILENAME)) -> bool:
    """Removes the plugin from `plugins_file`, keeping the other lines; False when it was not listed."""
    plugins = listed_plugins(plugins_file)
    if PLUGIN not in plugins:
        return False
    plugins_file.write_text("".join(f"{name}\n" for name in plugins if name != PLUGIN), encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--remove", action="store_true", help="take the plugin out of the per-user plugins file")
    args = parser.parse_args()
    plugins_file = Path(GLOBAL_PLUGINS_FILENAME)
    if args.remove:
        changed = unregister(plugins_file)
        print(f"{plugins_file}: {PLUGIN} {'removed' if changed else 'was not listed'}")
    else:
        changed = register(plugins_file)
        print(f"{plugins_file}: {PLUGIN} {'added' if changed else 'already listed'}; "
              "`allennlp sinet-*` now works from any folder")


if __name__ == "__main__":
    main()
