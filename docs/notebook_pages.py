"""An MkDocs hook: notebooks stay pages, one set per language, under mkdocs-static-i18n.

mkdocs-jupyter turns each `.ipynb` into a page in `on_files`; mkdocs-static-i18n then
rebuilds every file of each language as a plain `File` (its own `on_files`, run last),
so the notebooks would be copied as static files, once, outside the Korean site. This
runs after both and makes them pages again, with mkdocs-jupyter's own class and include
rules, under `ko/` while the Korean site is built.
"""

from __future__ import annotations

import os

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.plugins import event_priority
from mkdocs.structure.files import Files
from mkdocs_jupyter.plugin import NotebookFile


@event_priority(-110)  # after mkdocs-static-i18n's -100
def on_files(files: Files, config: MkDocsConfig) -> Files:
    jupyter = config.plugins["mkdocs-jupyter"]
    i18n = config.plugins["i18n"]
    prefix = "" if i18n.current_language == i18n.default_language else i18n.current_language
    for file in list(files):  # in place: the i18n plugin's Files subclass must stay
        if isinstance(file, NotebookFile) or not jupyter.should_include(file):
            continue
        page = NotebookFile(file, **config)
        if prefix:
            page.dest_path = f"{prefix}/{page.dest_path}"
            page.abs_dest_path = os.path.normpath(os.path.join(config.site_dir, page.dest_path))
            page.url = f"{prefix}/{page.url}"
        files.remove(file)
        files.append(page)
    return files
