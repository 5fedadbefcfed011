"""The execution cache is keyed on the package and the lock too (mlecourse.book)."""

from mlecourse.book import STAMP, invalidate_stale_cache, main, source_fingerprint


def _course(tmp_path):
    (tmp_path / "src" / "mlecourse").mkdir(parents=True)
    (tmp_path / "src" / "mlecourse" / "drift.py").write_text("THRESHOLD = 0.2\n")
    (tmp_path / "requirements.txt").write_text("numpy==2.0\n")
    cache = tmp_path / "_build" / ".jupyter_cache"
    cache.mkdir(parents=True)
    (cache / "global.db").write_text("executed notebooks")
    (tmp_path / "_build" / ".doctrees").mkdir()
    return cache


def test_an_unchanged_package_keeps_the_cache(tmp_path):
    cache = _course(tmp_path)
    invalidate_stale_cache(tmp_path)  # first run: no stamp yet, so the old cache goes
    (cache / "global.db").write_text("executed notebooks")
    (tmp_path / "_build" / ".doctrees").mkdir(exist_ok=True)
    assert invalidate_stale_cache(tmp_path) is False
    assert (cache / "global.db").exists() and (tmp_path / "_build" / ".doctrees").exists()


def test_a_changed_module_or_lock_empties_cache_and_doctrees(tmp_path, capsys):
    cache = _course(tmp_path)
    invalidate_stale_cache(tmp_path)
    for path, text in ((tmp_path / "src" / "mlecourse" / "drift.py", "THRESHOLD = 0.25\n"),
                       (tmp_path / "requirements.txt", "numpy==2.1\n")):
        (cache / "global.db").write_text("executed notebooks")
        (tmp_path / "_build" / ".doctrees").mkdir(exist_ok=True)
        before = source_fingerprint(tmp_path)
        path.write_text(text)
        assert source_fingerprint(tmp_path) != before
        assert main([str(tmp_path)]) == 0
        assert "executed again" in capsys.readouterr().out
        assert not (cache / "global.db").exists()
        assert not (tmp_path / "_build" / ".doctrees").exists()
        assert (cache / STAMP).read_text().strip() == source_fingerprint(tmp_path)


def test_bytecode_caches_do_not_count(tmp_path):
    _course(tmp_path)
    before = source_fingerprint(tmp_path)
    (tmp_path / "src" / "mlecourse" / "__pycache__").mkdir()
    (tmp_path / "src" / "mlecourse" / "__pycache__" / "drift.cpython-311.pyc").write_bytes(b"x")
    assert source_fingerprint(tmp_path) == before


# --- make book builds only when a file changed (mlecourse.book.build) ---------------------------

class _Runs:
    """Stands in for subprocess.run: records each jupyter-book call, "builds" the site."""

    def __init__(self, root, returncode=0):
        self.root, self.returncode, self.calls = root, returncode, []

    def __call__(self, argv, cwd):
        import subprocess

        self.calls.append(argv)
        (self.root / "_build" / "html").mkdir(parents=True, exist_ok=True)
        return subprocess.CompletedProcess(argv, self.returncode)


def test_an_unchanged_tree_is_not_built_again(tmp_path, capsys):
    from mlecourse.book import build

    _course(tmp_path)
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "intro.md").write_text("# Intro\n")
    runs = _Runs(tmp_path)
    assert build(tmp_path, ["-W"], run=runs) == 0 and len(runs.calls) == 1
    assert runs.calls[0][-3:] == ["build", str(tmp_path.resolve()), "-W"]
    assert build(tmp_path, ["-W"], run=runs) == 0 and len(runs.calls) == 1
    assert "up to date" in capsys.readouterr().out
    # other options, a changed page, a new file, a changed package: each builds again
    build(tmp_path, ["-W", "-n"], run=runs)
    (tmp_path / "book" / "intro.md").write_text("# Introduction\n")
    build(tmp_path, ["-W", "-n"], run=runs)
    (tmp_path / "book" / "new.md").write_text("# New\n")
    build(tmp_path, ["-W", "-n"], run=runs)
    (tmp_path / "src" / "mlecourse" / "drift.py").write_text("THRESHOLD = 0.3\n")
    build(tmp_path, ["-W", "-n"], run=runs)
    assert len(runs.calls) == 5
    # outputs and caches are not inputs: writing them changes nothing
    (tmp_path / "_build" / "html" / "page.html").write_text("<p>built</p>")
    (tmp_path / "src" / "mlecourse" / "__pycache__").mkdir()
    (tmp_path / "src" / "mlecourse" / "__pycache__" / "drift.pyc").write_bytes(b"x")
    build(tmp_path, ["-W", "-n"], run=runs)
    assert len(runs.calls) == 5


def test_a_failed_build_is_tried_again_next_time(tmp_path):
    from mlecourse.book import BUILT_STAMP, build

    _course(tmp_path)
    failing = _Runs(tmp_path, returncode=1)
    assert build(tmp_path, [], run=failing) == 1
    assert not (tmp_path / BUILT_STAMP).exists()
    assert build(tmp_path, [], run=failing) == 1 and len(failing.calls) == 2


def test_the_build_command_runs_jupyter_book_in_parallel_without_the_slow_iri_grammar(tmp_path):
    """The wrapper really starts jupyter-book, with rfc3987_syntax hidden and Sphinx's jobs set."""
    import subprocess
    import sys

    probe = ("import sys\n"
             "from mlecourse.book import jupyter_book\n"
             "try:\n"
             "    jupyter_book(['--version'])  # the real command line, which exits\n"
             "except SystemExit as done:\n"
             "    assert not done.code, done.code\n"
             "import jupyter_book.sphinx as js\n"
             "print('hidden', sys.modules.get('rfc3987_syntax', 0) is None,\n"
             "      'jobs', js.build_sphinx.keywords['jobs'])\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env={**__import__("os").environ,
                                             "MLECOURSE_BOOK_JOBS": "3"})
    assert done.returncode == 0, done.stderr
    assert "Jupyter Book" in done.stdout
    assert done.stdout.splitlines()[-1].split() == ["hidden", "True", "jobs", "3"]
