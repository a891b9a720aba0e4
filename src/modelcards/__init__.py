"""modelcards: YAML model cards and run metadata -> an auditable MkDocs-Material site."""

__version__ = "0.1.0"
# The name on PyPI (`pip install mkdocs-modelcards`), which `modelcards` was taken for by an unrelated
# project; the import package, the command and the MkDocs plugin are all `modelcards`.
DISTRIBUTION = "mkdocs-modelcards"
