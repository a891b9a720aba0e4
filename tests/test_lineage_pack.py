"""The pack that keeps a build's drawn diagrams for the next build: real files, written and read back."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from modelcards.lineage.pack import read_pack, write_pack

TEXTS = ['digraph { "é" -> "漢字" }', "", '<svg><text>a &amp; b</text></svg>']
DATA = {"diagrams": [["model", "churn", "Lineage of churn", [["a", "b\n\"c\""]]]], "overview_nodes": 3}


def test_texts_and_data_come_back_as_written(tmp_path: Path):
    pack = tmp_path / "lineage" / "diagrams.pack"
    write_pack(pack, "key-1", DATA, TEXTS)
    data, texts = read_pack(pack, "key-1")
    assert data == DATA
    assert [str(text) for text in texts] == TEXTS
    # Read twice, the same texts are equal; sent to another process, a text is the plain string.
    assert texts == read_pack(pack, "key-1")[1]
    assert pickle.loads(pickle.dumps(texts[0])) == TEXTS[0]


@pytest.mark.parametrize("damage", [
    lambda content: content[:-1],  # truncated
    lambda content: content + b"x",  # longer than its header says
    lambda content: b"",
    lambda content: b"not a pack at all",
    lambda content: b'{"format": 1, "key": "key-1", "sizes": ["a"]}\n',
    lambda content: b'{"format": 1, "key": "key-1", "sizes": [-1, 2]}\nx',
    lambda content: b'[1, 2]\n',
], ids=["truncated", "too long", "empty", "foreign", "sizes not numbers", "negative size", "not an object"])
def test_a_damaged_pack_is_ignored(tmp_path: Path, damage):
    pack = tmp_path / "diagrams.pack"
    write_pack(pack, "key-1", DATA, TEXTS)
    pack.write_bytes(damage(pack.read_bytes()))
    assert read_pack(pack, "key-1") is None


def test_another_key_or_no_file_finds_nothing_and_writing_replaces_the_pack(tmp_path: Path):
    pack = tmp_path / "diagrams.pack"
    assert read_pack(pack, "key-1") is None
    write_pack(pack, "key-1", DATA, TEXTS)
    assert read_pack(pack, "key-2") is None
    write_pack(pack, "key-2", [], ["new"])
    assert read_pack(pack, "key-1") is None
    data, texts = read_pack(pack, "key-2")
    assert data == [] and [str(text) for text in texts] == ["new"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["diagrams.pack"]  # no temporary file left
