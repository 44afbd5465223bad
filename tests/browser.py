"""A real headless browser (Chromium) for the tests that look at pages as people see them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def browser() -> str:
    """Chromium's path; CI installs it (.ci/run) and sets DLGRADE_REQUIRE_BROWSER=1, so
    there a missing browser fails the tests instead of skipping them."""
    for name in NAMES:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("DLGRADE_REQUIRE_BROWSER") == "1":
        pytest.fail("no Chromium found: install it (apt-get install chromium)")
    pytest.skip("no Chromium on this machine (apt-get install chromium)")


def screenshot(page: Path, png: Path, width: int = 1200, height: int = 1600) -> Path:
    """Render ``page`` as Chromium does and save what it shows."""
    subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu",
                    "--hide-scrollbars", f"--window-size={width},{height}",
                    f"--screenshot={png}", page.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return png


def dom(page: Path) -> str:
    """The page's DOM after Chromium parsed and laid it out."""
    return subprocess.run([browser(), "--headless", "--no-sandbox", "--disable-gpu",
                           "--dump-dom", page.resolve().as_uri()],
                          check=True, capture_output=True, text=True, timeout=120).stdout
