"""Open every page of the built book in headless Chromium and check that it works offline.

Usage:
    python scripts/check_site.py _build/html [--screenshots _build/screenshots]

The HTML folder is served on 127.0.0.1 (a free port, `http.server` in a thread) and Debian's
`chromium` (scripts/install_chromium.sh) is driven through the Chrome DevTools Protocol with the
`websocket-client` package. Every host other than 127.0.0.1 is unresolvable for the browser, so
the check is the same with or without a network. For every page:

- the page loads (HTTP 200 and a load event);
- every ``<img>`` has a natural width > 0;
- every same-origin link resolves (HTTP 200), and its ``#fragment`` exists on the target page;
- no JavaScript exception and no console error, except failed requests to external hosts;
- MathJax finished: every ``.math`` element holds an ``mjx-container``, none holds a TeX error
  (``mjx-merror``), no MathJax font failed to load, and MathJax itself requested nothing
  outside the site.

Screenshots of the introduction and of chapter 4 are saved (viewport and full page). The script
prints one line per page and exits with status 1 and a list of failures if anything is wrong.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

try:
    import websocket  # the `websocket-client` package
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("check_site.py needs the `websocket-client` package: pip install websocket-client")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    # Offline by construction: only the local server resolves.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1280, "height": 900}
DEFAULT_SCREENSHOTS = ("book/intro.html", "book/04_beta.html")
SKIP_DIRS = ("_static/", "_sources/", "_images/")
FULL_PAGE_MAX_HEIGHT = 8000

# Runs in the page after the load event: waits for images, MathJax and fonts, then reports.
PAGE_REPORT_JS = """
(async () => {
  const timeout = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.race([
    Promise.all(images.map((img) => img.complete ? null
      : new Promise((resolve) => { img.onload = img.onerror = resolve; }))),
    timeout(15000),
  ]);
  let mathjax = "absent";
  if (window.MathJax) {
    mathjax = "loading";
    for (let i = 0; i < 300 && !(MathJax.startup && MathJax.startup.promise); i++) {
      await timeout(100);
    }
    if (MathJax.startup && MathJax.startup.promise) {
      const done = await Promise.race([
        MathJax.startup.promise.then(() => "typeset", (e) => "failed: " + e),
        timeout(MATHJAX_TIMEOUT_MS).then(() => "timeout"),
      ]);
      mathjax = done;
    }
  }
  await Promise.race([document.fonts.ready, timeout(15000)]);
  const maths = [...document.querySelectorAll(".math")];
  const failedFonts = [...document.fonts]
    .filter((f) => f.status === "error")
    .map((f) => f.family);
  return {
    title: document.title,
    badImages: images.filter((img) => !(img.naturalWidth > 0))
      .map((img) => img.getAttribute("src")),
    numImages: images.length,
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    mathjax: mathjax,
    numMath: maths.length,
    unrendered: maths.filter((m) => !m.querySelector("mjx-container"))
      .map((m) => m.textContent.trim().slice(0, 80)),
    texErrors: [...document.querySelectorAll("mjx-merror")]
      .map((m) => (m.getAttribute("data-mjx-error") || m.textContent).slice(0, 120)),
    numContainers: document.querySelectorAll("mjx-container").length,
    failedFonts: [...new Set(failedFonts)],
    height: Math.ceil(document.documentElement.scrollHeight),
  };
})()
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".woff2": "font/woff2",
        ".ipynb": "application/x-ipynb+json",
    }

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by http.server
        pass


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve `directory` on 127.0.0.1 at a free port, in a daemon thread."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Browser:
    """Headless Chromium with one page, driven over the DevTools Protocol."""

    def __init__(self, executable: str, timeout: float = 30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="check-site-chromium-")
        self.log = open(Path(self.profile) / "chromium.log", "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [
                executable,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        port = self._devtools_port()
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        page = next(t for t in targets if t["type"] == "page")
        self.ws = websocket.create_connection(
            page["webSocketDebuggerUrl"], timeout=timeout, suppress_origin=True
        )
        self.next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride", **VIEWPORT, deviceScaleFactor=1, mobile=False
        )

    def _devtools_port(self) -> int:
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if port_file.exists() and port_file.read_text().strip():
                return int(port_file.read_text().split()[0])
            time.sleep(0.1)
        self.close()
        log = (Path(self.profile) / "chromium.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Chromium did not open its DevTools port. Its output:\n{log}")

    def _receive(self) -> dict:
        message = json.loads(self.ws.recv())
        if "id" not in message:
            self.events.append(message)
        return message

    def call(self, method: str, **params) -> dict:
        """Send one command and return its result, keeping the events that arrive meanwhile."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def wait_for_event(self, method: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        self.ws.settimeout(1.0)
        try:
            while time.monotonic() < deadline:
                if any(event["method"] == method for event in self.events):
                    return True
                try:
                    self._receive()
                except websocket.WebSocketTimeoutException:
                    pass
            return False
        finally:
            self.ws.settimeout(self.timeout)

    def drain(self, seconds: float) -> None:
        """Keep collecting events for `seconds` (late console messages, failed requests)."""
        self.wait_for_event("", timeout=seconds)

    def evaluate(self, expression: str, timeout: float):
        self.ws.settimeout(timeout)
        try:
            result = self.call(
                "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
            )
        finally:
            self.ws.settimeout(self.timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, height: int | None = None) -> None:
        params = {"format": "png"}
        if height:
            params.update(
                captureBeyondViewport=True,
                clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": height, "scale": 1},
            )
        data = self.call("Page.captureScreenshot", **params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:  # noqa: BLE001 - best effort on shutdown
            pass
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class _Anchors(HTMLParser):
    """Collects the id and name attributes of a page, and a meta refresh target if any."""

    def __init__(self):
        super().__init__()
        self.anchors: set[str] = set()
        self.refresh: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.anchors.add(attrs[key])
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            content = attrs.get("content") or ""
            self.refresh = content.split("url=", 1)[-1].strip() if "url=" in content else ""


class LinkChecker:
    """Checks same-origin URLs over HTTP, and their fragments against the target's anchors."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.pages: dict[str, tuple[int, _Anchors | None]] = {}

    def fetch(self, url: str) -> tuple[int, _Anchors | None]:
        if url not in self.pages:
            try:
                with urllib.request.urlopen(url, timeout=30) as response:
                    status, body = response.status, response.read()
                    content_type = response.headers.get("Content-Type", "")
            except urllib.error.HTTPError as error:
                status, body, content_type = error.code, b"", ""
            anchors = None
            if status == 200 and "html" in content_type:
                anchors = _Anchors()
                anchors.feed(body.decode("utf-8", errors="replace"))
            self.pages[url] = (status, anchors)
        return self.pages[url]

    def problem(self, href: str) -> str | None:
        """None if `href` resolves, else a short description of what is wrong."""
        url, fragment = urllib.parse.urldefrag(href)
        status, anchors = self.fetch(url)
        if status != 200:
            return f"HTTP {status}"
        fragment = urllib.parse.unquote(fragment)
        if fragment and anchors is not None and fragment not in anchors.anchors:
            return f"no anchor #{fragment}"
        return None


def list_pages(html_dir: Path, skip: list[str]) -> list[str]:
    pages = []
    for path in sorted(html_dir.rglob("*.html")):
        rel = path.relative_to(html_dir).as_posix()
        if rel.startswith(SKIP_DIRS) or rel in skip:
            continue
        pages.append(rel)
    return pages


def is_external(url: str, base_url: str) -> bool:
    return url.startswith(("http://", "https://")) and not url.startswith(base_url)


def is_automatic_favicon(url: str) -> bool:
    """The browser asks for /favicon.ico on its own; the book has none and needs none."""
    return urllib.parse.urlsplit(url).path == "/favicon.ico"


def check_page(
    browser: Browser, links: LinkChecker, rel: str, base_url: str, mathjax_timeout: float
) -> dict:
    """Load one page and return its report: a list of failures and a few counts."""
    url = base_url + urllib.parse.quote(rel)
    failures: list[str] = []
    status, anchors = links.fetch(url)
    if status != 200:
        return {"failures": [f"HTTP {status}"], "external": []}
    if anchors is not None and anchors.refresh is not None:
        target = urllib.parse.urljoin(url, anchors.refresh)
        problem = links.problem(target)
        return {
            "failures": [f"redirect to {anchors.refresh}: {problem}"] if problem else [],
            "external": [],
            "redirect": anchors.refresh,
        }

    browser.events.clear()
    result = browser.call("Page.navigate", url=url)
    if result.get("errorText"):
        return {"failures": [f"navigation failed: {result['errorText']}"], "external": []}
    if not browser.wait_for_event("Page.loadEventFired", timeout=60):
        failures.append("no load event within 60 s")
    script = PAGE_REPORT_JS.replace("MATHJAX_TIMEOUT_MS", str(int(mathjax_timeout * 1000)))
    report = browser.evaluate(script, timeout=mathjax_timeout + 60)
    browser.drain(0.5)

    failures += [f"image with zero natural width: {src}" for src in report["badImages"]]
    for href in sorted(set(report["links"])):
        if href.startswith(base_url):
            problem = links.problem(href)
            if problem:
                failures.append(f"broken link {href[len(base_url) - 1 :]}: {problem}")
    if report["numMath"]:
        if report["mathjax"] != "typeset":
            failures.append(f"MathJax did not finish: {report['mathjax']}")
        failures += [f"math not rendered: {text!r}" for text in report["unrendered"]]
    failures += [f"TeX error: {text}" for text in report["texErrors"]]
    failures += [f"font failed to load: {family}" for family in report["failedFonts"]]

    external = set()
    for event in browser.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            failures.append(f"JavaScript exception: {text}")
        elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"])
            failures.append(f"console.{params['type']}: {text[:300]}")
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            if entry.get("source") == "network" and (
                is_external(entry.get("url", ""), base_url)
                or is_automatic_favicon(entry.get("url", ""))
            ):
                continue  # a blocked external request (listed below) or the browser's favicon
            failures.append(f"console error ({entry.get('source')}): {entry['text'][:300]}")
        elif method == "Network.requestWillBeSent":
            request_url = params["request"]["url"]
            if is_external(request_url, base_url):
                external.add(request_url)
        elif method == "Network.responseReceived":
            response = params["response"]
            if (
                response["url"].startswith(base_url)
                and response["status"] >= 400
                and not is_automatic_favicon(response["url"])
            ):
                failures.append(f"HTTP {response['status']} for {response['url']}")
    for request_url in sorted(external):
        if "mathjax" in request_url.lower() or request_url.endswith((".woff", ".woff2")):
            failures.append(f"MathJax or font requested from outside the site: {request_url}")
    report.update(failures=failures, external=sorted(external))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", type=Path, help="the built site, e.g. _build/html")
    parser.add_argument(
        "--screenshots",
        type=Path,
        default=None,
        help="folder for the screenshots (default: screenshots/ beside html_dir)",
    )
    parser.add_argument(
        "--screenshot-page",
        action="append",
        default=None,
        help="page to photograph, relative to html_dir (repeatable; default: intro and chapter 4)",
    )
    parser.add_argument("--skip", action="append", default=[], help="page to leave out")
    parser.add_argument(
        "--page", action="append", default=None, help="check only this page (repeatable)"
    )
    parser.add_argument(
        "--mathjax-timeout",
        type=float,
        default=120.0,
        help="seconds to wait for MathJax to typeset one page (default: 120)",
    )
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)

    html_dir = args.html_dir.resolve()
    if not (html_dir / "index.html").is_file():
        print(f"error: {html_dir} has no index.html; build the book first", file=sys.stderr)
        return 2
    if not Path(args.chromium).exists():
        print(
            f"error: no Chromium at {args.chromium}; run scripts/install_chromium.sh",
            file=sys.stderr,
        )
        return 2
    shots_dir = args.screenshots or html_dir.parent / "screenshots"
    shots_dir.mkdir(parents=True, exist_ok=True)
    shot_pages = args.screenshot_page or list(DEFAULT_SCREENSHOTS)
    pages = list_pages(html_dir, args.skip)
    if args.page:
        pages = [page for page in pages if page in args.page]
        shot_pages = [page for page in shot_pages if page in pages]
    missing = [page for page in shot_pages if page not in pages]

    server, base_url = serve(html_dir)
    links = LinkChecker(base_url)
    all_failures: dict[str, list[str]] = {}
    all_external: set[str] = set()
    start = time.monotonic()
    try:
        browser = Browser(args.chromium)
    except (RuntimeError, OSError, websocket.WebSocketException) as error:
        server.shutdown()
        print(f"error: could not start Chromium: {error}", file=sys.stderr)
        return 2
    try:
        with browser:
            for rel in pages:
                page_start = time.monotonic()
                try:
                    report = check_page(browser, links, rel, base_url, args.mathjax_timeout)
                except (RuntimeError, OSError, websocket.WebSocketException) as error:
                    all_failures[rel] = [f"the check itself failed: {error!r}"]
                    print(f"FAIL {rel}: {error!r}", flush=True)
                    if not browser.ws.connected:
                        print("lost the connection to Chromium; stopping", file=sys.stderr)
                        break
                    continue
                if rel in shot_pages:
                    stem = Path(rel).stem
                    browser.screenshot(shots_dir / f"{stem}.png")
                    height = min(report.get("height", 0), FULL_PAGE_MAX_HEIGHT)
                    browser.screenshot(shots_dir / f"{stem}-full.png", height=height or None)
                all_external.update(report["external"])
                if "redirect" in report:
                    summary = f"redirect to {report['redirect']}"
                elif "numImages" not in report:
                    summary = "not loaded"
                else:
                    summary = (
                        f"{report['numImages']} images, {len(set(report['links']))} links, "
                        f"{report['numMath']} math ({report['mathjax']})"
                    )
                status = "FAIL" if report["failures"] else "ok  "
                seconds = time.monotonic() - page_start
                print(f"{status} {rel}: {summary} [{seconds:.1f} s]", flush=True)
                if report["failures"]:
                    all_failures[rel] = report["failures"]
    finally:
        server.shutdown()

    print(f"\nchecked {len(pages)} pages in {time.monotonic() - start:.0f} s")
    if all_external:
        print(f"blocked external requests (allowed): {len(all_external)}")
        for url in sorted(all_external):
            print(f"  {url}")
    for page in missing:
        all_failures.setdefault(page, []).append("page to photograph is not in the build")
    if all_failures:
        print(f"\n{sum(map(len, all_failures.values()))} failures:", file=sys.stderr)
        for rel, failures in all_failures.items():
            for failure in failures:
                print(f"  {rel}: {failure}", file=sys.stderr)
        return 1
    print(f"all pages passed; screenshots in {shots_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
