#!/usr/bin/env python3
"""The documentation site works offline in a real browser.

    python3 docs/check_site.py [--self-test] build/default/docs/html [--page PAGE.html ...]

1. Headless Chromium (Debian's `chromium`) loads index.html and each --page (default: the oracle's
   rules, the most formula-heavy page) with network access switched off, runs MathJax, and dumps
   the DOM. Each page must contain MathJax's output (`class="MathJax…"` elements) and no formula
   left as source text: no `\\f$` anywhere, no `\\(`, `\\[` or `$$` outside <script> elements
   (MathJax 2 keeps each formula's TeX in a <script type="math/tex"> next to its rendering).
2. Every internal link of every HTML file (href and src, relative or file://) names a file that
   exists and, for `#anchor` links into a page of ours, an id or name present in that page.

Exits 1 listing every problem. Standard library only (runs with /usr/bin/python3 or the venv).
"""

import argparse
import html.parser
import os
import pathlib
import shutil
import subprocess
import sys
import urllib.parse

MATH_SOURCE = ["\\f$", "\\f[", "\\("]


class Dom(html.parser.HTMLParser):
    """Collects text outside <script>/<style>, ids/names, links, and MathJax elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text = []
        self.ids = set()
        self.links = []
        self.mathjax = 0
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style"):
            self._skip += 1
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append(a[key])
        cls = a.get("class") or ""
        if "MathJax" in cls or tag == "mjx-container":
            self.mathjax += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def parse(text):
    d = Dom()
    d.feed(text)
    return d


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


def dump_dom(browser, page):
    cmd = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--disable-dev-shm-usage", "--allow-file-access-from-files",
           # no network: the site must work offline (MathJax is copied next to the HTML)
           "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
           "--virtual-time-budget=15000", "--dump-dom", page.resolve().as_uri()]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or "<html" not in r.stdout.lower():
        raise RuntimeError(f"chromium failed on {page} (exit {r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


def check_math(browser, page, problems):
    dom = parse(dump_dom(browser, page))
    text = "".join(dom.text)
    left = [m for m in MATH_SOURCE if m in text]
    if "$$" in text:
        left.append("$$")
    if left:
        i = min(text.find(m) for m in left)
        problems.append(f"{page.name}: formula source left after MathJax ({', '.join(left)}): …{text[max(0, i - 60):i + 60]!r}…")
    if dom.mathjax == 0:
        problems.append(f"{page.name}: no MathJax output in the rendered page (did MathJax load from mathjax/?)")
    return dom.mathjax


def check_links(root, problems):
    pages = sorted(root.rglob("*.html"))
    ids = {}
    checked = 0
    for page in pages:
        dom = parse(page.read_text(encoding="utf-8", errors="replace"))
        ids[page] = dom.ids
        for link in dom.links:
            url = urllib.parse.urlsplit(link)
            if url.scheme in ("http", "https", "mailto", "javascript", "data") or url.netloc:
                continue
            if url.scheme == "file":
                target = pathlib.Path(urllib.parse.unquote(url.path))
            elif not url.path:
                target = page
            else:
                target = (page.parent / urllib.parse.unquote(url.path)).resolve()
            checked += 1
            if not target.exists():
                problems.append(f"{page.relative_to(root)}: broken link {link!r} (no {target})")
                continue
            if url.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = parse(target.read_text(encoding="utf-8", errors="replace")).ids
                if url.fragment not in ids[target]:
                    problems.append(f"{page.relative_to(root)}: link {link!r}: no anchor #{url.fragment} in {target.name}")
    return len(pages), checked


def self_test(browser):
    """The checks can fail: a page whose math never typesets and whose links are broken must be
    reported on every count. Returns the list of what the checker missed (empty: it bites)."""
    import tempfile
    missed = []
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        (root / "index.html").write_text(
            "<html><body><p>raw \\( x^2 \\) and \\f$ y \\f$</p>"
            '<a href="missing.html">x</a> <a href="other.html#nowhere">y</a></body></html>')
        (root / "other.html").write_text('<html><body><a id="here"></a></body></html>')
        problems = []
        check_math(browser, root / "index.html", problems)
        check_links(root, problems)
        for what in ["formula source left", "no MathJax output", "missing.html", "#nowhere"]:
            if not any(what in p for p in problems):
                missed.append(what)
    return missed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=pathlib.Path, nargs="?", help="the docs' html directory")
    parser.add_argument("--self-test", action="store_true",
                        help="first check that a broken page is caught (raw math, no MathJax, broken links)")
    parser.add_argument("--page", action="append", default=None,
                        help="page (relative to html/) that must typeset its math; repeatable")
    args = parser.parse_args()
    browser = chromium_binary()
    if browser is None:
        print("check_site: chromium not found (scripts/setup.sh installs Debian's chromium)", file=sys.stderr)
        return 1
    if args.self_test:
        missed = self_test(browser)
        if missed:
            print(f"check_site: self-test: a broken page passed these checks: {', '.join(missed)}", file=sys.stderr)
            return 1
        print("check_site: self-test: a broken page fails every check")
    if args.html is None:
        return 0
    root = args.html.resolve()
    index = root / "index.html"
    if not index.exists():
        print(f"check_site: {index} does not exist: build the docs target first", file=sys.stderr)
        return 1

    problems = []
    math_pages = [index] + [root / p for p in (args.page or ["oracle_rules.html"])]
    for page in math_pages:
        if not page.exists():
            problems.append(f"{page}: page missing")
            continue
        n = check_math(browser, page, problems)
        print(f"check_site: {page.name}: {n} MathJax elements after rendering")
    n_pages, n_links = check_links(root, problems)
    print(f"check_site: {n_pages} HTML files, {n_links} internal links checked")
    for p in problems:
        print(f"check_site: {p}", file=sys.stderr)
    print(f"check_site: {'FAILED, ' + str(len(problems)) + ' problem(s)' if problems else 'all checks passed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
