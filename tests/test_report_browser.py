"""A run's report.html in a real browser: headless Chromium (Debian's `chromium`) through
Playwright renders the page, every embedded image decodes, and a screenshot is taken.

In CI (CI=true) a missing browser fails the test; on a developer's machine it skips with
the reason. SEQKIT_SCREENSHOT=PATH keeps the screenshot there (docs/images/report.png is
made so).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import seqkit

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
    None,
)


def browser_or_reason() -> str | None:
    """Why no browser test can run here, or None."""
    if CHROMIUM is None:
        return "no Chromium (apt-get install -y chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright (pip install -e '.[notebook]')"
    return None


@pytest.fixture(scope="module")
def page():
    reason = browser_or_reason()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser.new_page(viewport={"width": 1000, "height": 1400})
        finally:
            browser.close()


def test_a_run_report_renders_in_chromium(page, tmp_path):
    out = tmp_path / "run"
    seqkit.run(
        cell="gru",
        task="sum",
        epochs=10,
        hidden_size=24,
        lr=0.01,
        batch_size=32,
        seed=0,
        device="cpu",
        task_options={"num_samples": 512, "val_samples": 128},
        probe_every=5,
        out=out,
        quiet=True,
    )
    summary = json.loads((out / "summary.json").read_text())
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto((out / "report.html").as_uri())
    page.wait_for_load_state("load")

    assert page.title() == "gru / many-to-one on sum"
    rows = page.eval_on_selector_all(
        "table.summary tr", "rows => rows.map(r => [...r.cells].map(c => c.innerText))"
    )
    by_name = {row[0]: row[1:] for row in rows}
    assert by_name["val loss"][0] == f"{summary['val_loss']:.4g}"
    assert by_name["chance"][0] == f"{summary['chance_loss']:.4g}"
    images = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight])"
    )
    assert [alt for alt, *_ in images] == ["loss curves", "gradient flow", "gradient norm per step"]
    for alt, complete, width, height in images:
        assert complete and width > 0 and height > 0, alt
    # Nothing but the page itself was fetched.
    assert requests == [(out / "report.html").as_uri()]

    shot = Path(os.environ.get("SEQKIT_SCREENSHOT") or tmp_path / "report.png")
    page.screenshot(path=str(shot))  # the top of the page: summary, loss, gradients
    assert shot.read_bytes().startswith(b"\x89PNG")
