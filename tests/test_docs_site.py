"""The site's pages: every English page has its Korean version, both navs list every
page, and a Korean page shows no generated example that its English page lacks."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def load_generate():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("docs_generate", module)
    spec.loader.exec_module(module)
    return module


def english_pages() -> set[str]:
    return {p.name for p in DOCS.glob("*.md") if not p.name.endswith(".ko.md")}


def navs() -> tuple[set[str], set[str]]:
    """The pages in the English nav, and in the Korean one (under the i18n plugin)."""
    text = (ROOT / "mkdocs.yml").read_text()
    english, korean = text.split("\nplugins:", 1)
    page = re.compile(r"^\s*- [^:]+: (\S+\.md)$", re.M)
    return set(page.findall(english)), set(page.findall(korean))


def test_every_page_has_its_korean_version():
    missing = [n for n in english_pages() if not (DOCS / n.replace(".md", ".ko.md")).is_file()]
    assert sorted(missing) == []


def test_both_navs_list_every_page():
    english, korean = navs()
    assert english == english_pages()
    assert korean == english_pages()


def test_a_korean_page_shows_only_examples_its_english_page_runs():
    generate = load_generate()

    def examples(page: Path) -> set[str]:
        _, blocks, _ = generate.parse_page(page)
        return {e.code for b in blocks for e in b.examples}

    extra = {}
    for name in english_pages():
        korean = DOCS / name.replace(".md", ".ko.md")
        if korean.is_file():
            only_korean = examples(korean) - examples(DOCS / name)
            if only_korean:
                extra[korean.name] = sorted(only_korean)
    assert extra == {}
