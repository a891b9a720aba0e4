"""User files as text: UTF-8 (with or without a byte-order mark), and bytes that are not placed at
their line and column, so a bad byte on line 3 is reported on line 3."""

from __future__ import annotations

_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")


class NotUtf8(ValueError):
    """Bytes that are not UTF-8, with where the first bad one is (1-based line and column)."""

    def __init__(self, error: UnicodeDecodeError):
        raw = error.object  # after a UTF-8 byte-order mark, which the offsets do not count
        before = raw[: error.start]
        line_start = before.rfind(b"\n") + 1
        self.line = before.count(b"\n") + 1
        self.col = len(before[line_start:].decode("utf-8", "replace")) + 1
        if raw[:2] in _UTF16_MARKS:
            self.message = "found a UTF-16 file (its byte-order mark), expected UTF-8 text; save it as UTF-8"
        else:
            self.message = (f"found the byte 0x{raw[error.start]:02x}, which is not UTF-8 ({error.reason}), "
                            "expected UTF-8 text")
        super().__init__(self.message)


def decode_utf8(raw: bytes) -> str:
    """``raw`` as text; raises ``NotUtf8`` naming the line and column of the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotUtf8(exc) from None
