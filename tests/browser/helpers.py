"""Helpers for the browser tests: screenshots, the SMS outbox, and measurements made in the page."""

import os
import re
import tempfile
import time
from pathlib import Path

# Screenshots of the pages the tests pass through, for people to look at.
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "unionportal-screens")


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_until(page, expression: str, timeout: float = 10_000) -> None:
    """Wait until a JavaScript expression is true in the page. Playwright's `wait_for_function` builds
    its predicate with eval, which the portal's Content-Security-Policy forbids; `evaluate` is not
    subject to it, so this polls with that."""
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for: {expression}")
        page.wait_for_timeout(50)


def login_code_from_outbox(mobile: str) -> str:
    from core import sms

    texts = [m["text"] for m in sms.outbox if m["mobile"] == mobile]
    assert texts, f"no SMS was sent to {mobile}"
    return re.search(r"\b(\d{6})\b", texts[-1]).group(1)


# Every visible element that has text of its own: its font size and its WCAG contrast ratio
# against the background actually behind it (semi-transparent layers blended, gradients taken
# at their worst stop).
TEXT_METRICS_JS = """
() => {
  const parse = (c) => {
    const m = c && c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
  };
  const blend = (fg, bg) => ({
    r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a),
    b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1,
  });
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => {
    const x = lum(a), y = lum(b);
    return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
  };
  const backgrounds = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const s = getComputedStyle(e);
      if (s.backgroundImage.includes("gradient")) {
        const stops = [...s.backgroundImage.matchAll(/rgba?\\([^)]+\\)/g)].map((m) => parse(m[0]));
        return stops.map((stop) => layers.reduceRight((bg, layer) => blend(layer, bg), blend(stop, {r: 255, g: 255, b: 255, a: 1})));
      }
      const c = parse(s.backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = {r: 255, g: 255, b: 255, a: 1};
    for (let i = layers.length - 1; i >= 0; i--) bg = blend(layers[i], bg);
    return [bg];
  };
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    if (el.closest("svg, script, style, option, .skip-link")) continue;
    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim());
    if (!own.length) continue;
    const s = getComputedStyle(el);
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0 || s.visibility !== "visible" || s.display === "none") continue;
    const color = parse(s.color);
    const worst = Math.min(...backgrounds(el).map((bg) => ratio(blend(color, bg), bg)));
    out.push({
      text: own.join(" ").slice(0, 40), tag: el.tagName.toLowerCase(), cls: el.className || "",
      fontSize: parseFloat(s.fontSize), contrast: Math.round(worst * 100) / 100,
    });
  }
  return out;
}
"""

# The height of every visible control in the tab bar, the top bar and the forms.
TARGET_SIZES_JS = """
() => [...document.querySelectorAll(
    ".tabbar a, .topbar a, .topbar button, form a, form button, form input:not([type=hidden]), form select, form textarea, .actions a"
  )].filter((el) => el.getBoundingClientRect().width > 0 && !el.closest(".skip-link"))
    .map((el) => ({
      what: el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + " " + (el.textContent || el.name || "").trim().slice(0, 20),
      height: Math.round(el.getBoundingClientRect().height * 10) / 10,
    }))
"""


def text_metrics(page) -> list[dict]:
    return page.evaluate(TEXT_METRICS_JS)


def target_sizes(page) -> list[dict]:
    return page.evaluate(TARGET_SIZES_JS)


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")
