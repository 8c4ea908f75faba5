"""Drive the system's headless Chromium to check dashboard pages; reusable by every page test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--window-size=1400,1000",
)

# For each plot div: its trace types and how many points each trace has. plotly.js keeps the
# user's arrays in gd.data, but base64-encoded numpy arrays only become arrays in gd._fullData.
PLOT_SUMMARY_JS = """
const count = (value) => {
  if (value === undefined || value === null) return 0;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return value.length;
  if (typeof value === 'object' && typeof value.bdata === 'string') return value.bdata.length;
  return 0;
};
return Array.from(document.querySelectorAll('.js-plotly-plot')).map((div) => {
  const traces = (div._fullData && div._fullData.length ? div._fullData : (div.data || []));
  return {
    id: div.id,
    traces: (div.data || []).length,
    points: traces.map((t) => Math.max(count(t.x), count(t.y), count(t.z), count(t.values),
                                       count(t.link && t.link.value))),
    buttons: Array.from(div.querySelectorAll('.modebar-btn')).map((b) => b.getAttribute('data-title')),
  };
});
"""


@dataclass
class PageCheck:
    """What a loaded page showed: severe console messages and, per plot, the points per trace."""

    url: str
    severe_messages: list[str] = field(default_factory=list)
    plots: list[dict] = field(default_factory=list)

    @property
    def empty_plots(self) -> list[str]:
        """Plot div ids whose data has no trace with points."""
        return [plot["id"] for plot in self.plots if not any(points > 0 for points in plot["points"])]

    def problems(self, expect_plots: bool) -> list[str]:
        """Everything wrong with the page, as readable strings (empty when the page is fine)."""
        found = [f"SEVERE console message: {message}" for message in self.severe_messages]
        found += [f"plot {plot_id} has no trace with points" for plot_id in self.empty_plots]
        found += [
            f"plot {plot['id']} offers to upload data off the machine ({title})"
            for plot in self.plots
            for title in plot["buttons"]
            if title and "share" in title.lower()
        ]
        if expect_plots and not self.plots:
            found.append("page has no plots although plots were expected")
        return found


def require_chromium() -> None:
    """Fail (never skip) with a clear message when the browser or its driver is missing."""
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.exists()]
    if missing or shutil.which(str(CHROMIUM)) is None:
        raise RuntimeError(
            "Headless browser tests need Debian's chromium and chromium-driver packages; "
            f"not found: {', '.join(missing) or CHROMIUM}"
        )


@contextmanager
def headless_chromium(user_data_dir: Path, extra_flags: tuple[str, ...] = ()) -> Iterator[webdriver.Chrome]:
    """A headless Chromium session with a fresh profile; uses the system driver, never Selenium Manager."""
    require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, *extra_flags):
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def check_page(driver: webdriver.Chrome, page: Path, timeout_seconds: float = 30.0) -> PageCheck:
    """Load ``page`` from a file:// URL and collect console errors and per-plot point counts."""
    url = page.resolve().as_uri()
    driver.get_log("browser")  # discard messages from earlier pages
    driver.get(url)
    WebDriverWait(driver, timeout_seconds).until(
        lambda d: d.execute_script("return document.readyState") == "complete"
    )
    # Plotly draws asynchronously; wait until every plot div has been initialised by plotly.js.
    WebDriverWait(driver, timeout_seconds).until(
        lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('.plotly-graph-div'))"
            ".every((div) => div.classList.contains('js-plotly-plot') && div._fullLayout);"
        )
    )
    check = PageCheck(url=url)
    check.plots = driver.execute_script(PLOT_SUMMARY_JS)
    check.severe_messages = [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    return check
