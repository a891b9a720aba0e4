"""Cards from other formats: a Hugging Face README.md or a Model Card Toolkit JSON file, turned into a card.

Each format is one module with one entry function, ``read_<format>(text, path) -> Imported``; ``IMPORTERS`` is
the table the command line reads. What a format holds that the card has no field for is reported as a
warning at its place in the source file and kept under ``custom.<format>``, so nothing is lost silently.
"""

from __future__ import annotations

from typing import Callable

from .common import Imported, card_yaml, check_written_card

__all__ = ["IMPORTERS", "Imported", "card_yaml", "check_written_card"]


def _hf(text: str, path: str) -> Imported:
    from .hf import read_hf

    return read_hf(text, path)


def _mct(text: str, path: str) -> Imported:
    from .mct import read_mct

    return read_mct(text, path)


IMPORTERS: dict[str, Callable[[str, str], Imported]] = {"hf": _hf, "mct": _mct}
