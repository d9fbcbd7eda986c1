"""A strict reading of seqkit's HTML for the tests: balanced tags, every image's source,
every table's cells as text, and nothing that reaches outside the page."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "source", "wbr"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass
class Parsed:
    images: list[dict[str, str]] = field(default_factory=list)
    tables: list[list[list[str]]] = field(default_factory=list)
    headings: list[str] = field(default_factory=list)
    text: str = ""
    tags: set[str] = field(default_factory=set)

    def table_after(self, heading: str) -> list[list[str]]:
        """Rows of the first table whose first header cell is `heading`."""
        return next(t for t in self.tables if t and t[0] and t[0][0] == heading)

    def pngs(self) -> list[bytes]:
        """Each image's bytes, decoded from its data URI."""
        out = []
        for img in self.images:
            head, _, data = img["src"].partition(",")
            assert head == "data:image/png;base64", img["src"][:40]
            out.append(base64.b64decode(data))
        return out


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out = Parsed()
        self.stack: list[str] = []
        self.heading: list[str] | None = None
        self.cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.out.tags.add(tag)
        attributes = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.out.images.append(attributes)
        if tag not in VOID:
            self.stack.append(tag)
        if tag == "table":
            self.out.tables.append([])
        elif tag == "tr":
            self.out.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag in ("h2", "h3"):
            self.heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()
        if tag in ("td", "th") and self.cell is not None:
            self.out.tables[-1][-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag in ("h2", "h3") and self.heading is not None:
            self.out.headings.append("".join(self.heading).strip())
            self.heading = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        for part in (self.cell, self.heading):
            if part is not None:
                part.append(data)


def parse(html: str) -> Parsed:
    """Parse `html`, failing on an unclosed or misnested tag."""
    reader = _Reader()
    reader.feed(html)
    reader.close()
    assert reader.stack == [], f"unclosed tags: {reader.stack}"
    reader.out.text = "".join(reader.text)
    return reader.out


def assert_self_contained(parsed: Parsed) -> None:
    """No script, no stylesheet link, no frame; every image a PNG inside the page."""
    assert not parsed.tags & {"script", "link", "iframe", "object", "embed"}
    for png in parsed.pngs():
        assert png.startswith(PNG_MAGIC)
