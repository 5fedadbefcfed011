"""Shared fixtures: the repository root, the built book, and the browser.

Browser tests use Playwright with an installed Chromium or Chrome (never a downloaded browser):
the one ``MLECOURSE_BROWSER`` names (a path or a command on PATH), else the system Chromium. Where
none is found they skip with a reason, unless ``REQUIRE_BROWSER=1``, where they fail.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # the site must work offline: the browser resolves no host name except loopback
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOOPBACK = ("http://127.0.0.1", "http://localhost", "data:", "blob:")


# --- the repository stays clean -------------------------------------------------------------

def _git_status() -> set[str]:
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"],
                             cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return set()
    return set(out.splitlines())


def pytest_sessionstart(session):
    session.config._mle_git_before = _git_status()


def pytest_sessionfinish(session, exitstatus):
    proc = getattr(session.config, "_mle_book", None)
    if proc is not None and proc.poll() is None:
        if _worker_id(session.config) and exitstatus == 0 and not session.shouldstop:
            proc.wait()  # another worker may still need the book this worker is building
        else:  # the run ended (or failed) before it needed the book
            proc.terminate()
            proc.wait()
    before = getattr(session.config, "_mle_git_before", None)
    if before is None or os.environ.get("MLE_ALLOW_DIRTY"):
        return
    new = sorted(_git_status() - before)
    if new:
        # Notebooks and tests must write only to temporary directories.
        sys.stderr.write("\nThe test run changed the repository (write to a temporary directory instead):\n")
        sys.stderr.write("".join(f"    {line}\n" for line in new))
        session.exitstatus = 1


# --- shared scorecard fixtures -------------------------------------------------------------

def scorecard_fixtures() -> dict:
    """Fixture assessments that carry expected results, by name; shared by the Python scoring
    tests and the browser tests so both implementations are held to the same answers."""
    import json
    from importlib import resources

    out = {}
    for f in resources.files("mlecourse.scorecard").joinpath("fixtures").iterdir():
        if f.name.endswith(".json"):
            data = json.loads(f.read_text("utf-8"))
            if "expected" in data:
                out[f.name[:-5]] = data
    return out


# --- the book -------------------------------------------------------------------------------
# The book build executes every notebook (notebooks/, solutions/, executable book pages) once
# per run: it is the notebook test. It starts in the background as soon as collection shows a
# test that needs it, so it overlaps the unit tests. Under pytest-xdist (make test) the first
# worker to get there starts it; every worker waits for the same build through files in a
# folder named after the run.


def _worker_id(config) -> str | None:
    return getattr(config, "workerinput", {}).get("workerid")


def _book_state(config) -> Path:
    import tempfile

    run = getattr(config, "workerinput", {}).get("testrunuid") or f"pid{os.getpid()}"
    return Path(tempfile.gettempdir()) / f"mlecourse-book-{run}"


def _book_command() -> list[str]:
    """``make book``'s command: invalidates a stale execution cache, builds if anything changed."""
    return [sys.executable, "-m", "mlecourse.book", "build", str(ROOT), "-W", "-n", "--keep-going"]


def _start_book_build(config) -> None:
    if getattr(config, "_mle_book_started", False):
        return
    config._mle_book_started = True
    state = _book_state(config)
    state.mkdir(exist_ok=True)
    try:  # exactly one process of the run builds the book
        os.close(os.open(state / "owner", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    import time

    for old in state.parent.glob("mlecourse-book-*"):  # earlier runs' folders (a few KB each)
        if time.time() - old.stat().st_mtime > 86_400:
            shutil.rmtree(old, ignore_errors=True)
    log = open(state / "log", "w", encoding="utf-8")
    proc = subprocess.Popen(_book_command(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            text=True)
    config._mle_book = proc

    def record_exit():
        code = proc.wait()
        log.close()
        (state / "returncode.tmp").write_text(str(code))
        (state / "returncode.tmp").replace(state / "returncode")  # appears complete or not at all

    threading.Thread(target=record_exit, daemon=True).start()


def pytest_collection_modifyitems(session, config, items):
    """Run the tests that wait for the book last (stable order otherwise), so the unit tests
    overlap the build instead of queueing behind its first test."""
    items.sort(key=lambda item: "built_book" in getattr(item, "fixturenames", ()))


def pytest_collection_finish(session):
    if any("built_book" in getattr(item, "fixturenames", ()) for item in session.items):
        _start_book_build(session.config)


@pytest.fixture(scope="session")
def built_book(pytestconfig) -> Path:
    """The book built as ``make book`` does (warnings are errors): its ``_build/html``."""
    import time

    _start_book_build(pytestconfig)
    done = _book_state(pytestconfig) / "returncode"
    while not done.exists():
        time.sleep(0.5)
    returncode = int(done.read_text())
    if returncode != 0:
        text = (done.parent / "log").read_text(encoding="utf-8", errors="replace")
        tail = "\n".join(line for line in text.splitlines()
                         if "WARNING" in line or "ERROR" in line or "rror" in line)
        pytest.fail(f"the book build failed (exit {returncode}):\n{tail or text[-4000:]}")
    html = ROOT / "_build" / "html"
    assert (html / "index.html").exists()
    return html


# --- the browser ----------------------------------------------------------------------------

BROWSER_ENV = "MLECOURSE_BROWSER"


def chromium_path() -> str | None:
    """Return the browser to drive: ``$MLECOURSE_BROWSER`` if set, else the system Chromium.

    ``MLECOURSE_BROWSER`` may be a path or a command name on PATH (CI sets it to the Chrome or
    Chromium that its runner ships). A value that names nothing is an error, not a silent
    fallback, so a misconfigured CI fails instead of skipping. Returns None when the variable is
    unset and no system Chromium is found.
    """
    chosen = os.environ.get(BROWSER_ENV, "").strip()
    if chosen:
        found = chosen if Path(chosen).is_file() else shutil.which(chosen)
        if not found:
            raise ValueError(f"{BROWSER_ENV}={chosen!r} is neither a file nor a command on PATH")
        return found
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    try:
        path = chromium_path()
    except ValueError as exc:
        pytest.fail(str(exc))
    if path is None:
        message = (f"no system Chromium found (install Debian's 'chromium' package, or set "
                   f"{BROWSER_ENV} to a Chrome or Chromium executable)")
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and REQUIRE_BROWSER=1")
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


@pytest.fixture(scope="session")
def serve():
    """Return a function that serves a folder on loopback and gives its base URL (one server
    per folder for the whole run: each server costs up to a poll interval to stop)."""
    servers: dict[str, tuple] = {}

    def _serve(folder: Path) -> str:
        key = str(Path(folder).resolve())
        if key not in servers:
            handler = functools.partial(_QuietHandler, directory=key)
            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                      daemon=True)
            thread.start()
            servers[key] = (server, thread)
        return f"http://127.0.0.1:{servers[key][0].server_address[1]}"

    yield _serve
    for server, thread in servers.values():
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def offline_page(page):
    """A Playwright page that may only talk to loopback; other requests are aborted and recorded."""
    return make_offline(page)


def make_offline(page):
    """Let ``page`` talk only to loopback; abort other requests and record them in
    ``page.blocked_requests``."""
    blocked: list[str] = []

    def _route(route):
        url = route.request.url
        if url.startswith(LOOPBACK):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    page.route("**/*", _route)
    page.blocked_requests = blocked
    return page
