from setuptools import find_packages, setup

setup(
    name="sinet_allen",
    version="0.1.0",
    description="SINET and CMAN joint entity and relation extraction as an AllenNLP plugin",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=find_packages(include=["sinet_allen", "sinet_allen.*"]),
    package_data={"sinet_allen.server": ["page.html"]},  # the demo page of allennlp sinet-serve
    python_requires=">=3.10",
    # The full, pinned run-time stack lives in requirements.txt: allennlp itself must be installed
    # with --no-deps (its published pins cannot be met on Python 3.11), see the Makefile.
    install_requires=["allennlp==2.10.1"],
    # spaCy finds the "sinet" pipeline factory here, so a config.cfg can name it without an import.
    entry_points={"spacy_factories": ["sinet = sinet_allen.spacy_pipeline.component:make_sinet_component"]},
    # `pip install sinet_allen[ray]`: extraction on a Ray cluster (sinet-extract --engine ray); the
    # pins keep numpy 1 (requirements.txt says why each), and `make install` installs them too.
    extras_require={"ray": ["ray[data]==2.60.0", "pandas==3.0.6", "pyarrow==25.0.1"]},
    license="Apache-2.0",
)
