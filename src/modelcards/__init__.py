"""modelcards: YAML model cards and run metadata -> an auditable MkDocs-Material site."""

__version__ = "0.1.0"
