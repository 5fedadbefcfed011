"""Building the course's book: keep the execution cache honest.

Jupyter Book caches executed notebooks keyed on their code cells only. When the package the
notebooks import changes, a cached page would still show the old results, so the cache is
also keyed on the package and the lock: :func:`invalidate_stale_cache` empties it when either
changed since the cache was filled. ``make book`` and the test suite call it before building.

``python -m mlecourse.book [ROOT]`` does the same from the command line.

``python -m mlecourse.book build [ROOT] [JUPYTER-BOOK OPTIONS]`` (``make book``, the test suite)
also builds the site, and only when something the site is made from changed since the last
successful build with the same options (:func:`site_fingerprint`): like ``make``, an unchanged
tree costs a hash of its files, not a Sphinx start-up.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

STAMP = "mlecourse-source.sha256"
# What the executed pages depend on besides their own code cells.
_INPUTS = ("src/mlecourse", "requirements.txt")
_SKIP = ("__pycache__", "mathjax")


def source_fingerprint(root) -> str:
    """SHA-256 over the package's files and the lock, by relative path and content."""
    root = Path(root)
    digest = hashlib.sha256()
    for name in _INPUTS:
        base = root / name
        files = [base] if base.is_file() else sorted(
            p for p in base.rglob("*") if p.is_file() and not set(p.parts) & set(_SKIP))
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def invalidate_stale_cache(root, cache: str = "_build/.jupyter_cache",
                           doctrees: str = "_build/.doctrees") -> bool:
    """Empty the execution cache when the package or lock changed; return True if it did.

    Sphinx's saved environment (``doctrees``) goes too: otherwise Sphinx would not read the
    unchanged pages again, and the emptied cache would never be refilled for them.
    """
    root = Path(root)
    cache_dir = root / cache
    stamp = cache_dir / STAMP
    current = source_fingerprint(root)
    stale = cache_dir.exists() and (not stamp.exists() or stamp.read_text().strip() != current)
    if stale:
        shutil.rmtree(cache_dir)
        shutil.rmtree(root / doctrees, ignore_errors=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return stale


#: The stamp of the last successful build, inside the built site (``make clean`` removes it).
BUILT_STAMP = "_build/html/.mlecourse-built.sha256"
# Folders that are not site input: outputs, environments, version control.
_NOT_INPUT = {"_build", ".git", ".venv", "venv", "node_modules", "__pycache__", ".ipynb_checkpoints",
              ".pytest_cache", "nbgrader-course"}

#: How many processes Sphinx reads (and so executes notebooks) with; MLECOURSE_BOOK_JOBS overrides.
JOBS_VARIABLE = "MLECOURSE_BOOK_JOBS"


def jupyter_book(argv: list[str]) -> None:
    """Run the ``jupyter-book`` command line with ``argv``, tuned for this course:

    * jsonschema's optional IRI checker is not imported (``rfc3987_syntax`` builds a grammar for
      over a second at import; the book's configuration schema checks no format);
    * Sphinx reads pages in parallel, one process per core (MyST-NB then executes notebooks in
      parallel), which jupyter-book's command line does not offer. ``sphinx_multitoc_numbering``,
      which sphinx-external-toc always loads, does not declare itself parallel-safe; it only
      replaces how section numbers are assigned after reading, in the main process, so it is
      declared safe here.
    """
    import functools

    sys.modules.setdefault("rfc3987_syntax", None)  # makes "import rfc3987_syntax" fail
    import jupyter_book.sphinx
    import sphinx_multitoc_numbering
    from jupyter_book.cli.main import main as jupyter_book_main

    jobs = int(os.environ.get(JOBS_VARIABLE) or os.cpu_count() or 1)
    jupyter_book.sphinx.build_sphinx = functools.partial(jupyter_book.sphinx.build_sphinx,
                                                         jobs=jobs)
    original = sphinx_multitoc_numbering.setup

    def setup(app):
        original(app)
        return {"parallel_read_safe": True, "parallel_write_safe": True}

    sphinx_multitoc_numbering.setup = setup
    jupyter_book_main(argv, prog_name="jupyter-book")


def site_fingerprint(root, options=()) -> str:
    """SHA-256 over every file the site could be made from (the whole tree but outputs,
    environments and version control), the build options and the Python version."""
    root = Path(root)
    digest = hashlib.sha256(" ".join([sys.version, *options]).encode() + b"\0")
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_INPUT)
        for name in sorted(files):
            path = Path(folder) / name
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build(root, options=(), *, run=subprocess.run) -> int:
    """Build the site in ``root`` with jupyter-book ``options`` unless nothing changed since the
    last successful build; return jupyter-book's exit status (0 when skipped)."""
    root = Path(root).resolve()
    if invalidate_stale_cache(root):
        print("The course package or the lock changed: every page will be executed again.")
    stamp = root / BUILT_STAMP
    current = site_fingerprint(root, options)
    if stamp.exists() and stamp.read_text().strip() == current:
        print(f"The site in {root / '_build' / 'html'} is up to date: nothing changed since its "
              "last build.")
        return 0
    stamp.unlink(missing_ok=True)  # a failed or interrupted build leaves no stamp
    # cwd matters: the execution cache path in _config.yml is relative to it.
    code = run([sys.executable, "-m", "mlecourse.book", "jupyter-book", "build", str(root),
                *options], cwd=root).returncode
    if code == 0 and stamp.parent.is_dir():
        stamp.write_text(current + "\n")
    return code


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["jupyter-book"]:
        jupyter_book(argv[1:])  # click exits with jupyter-book's status
        return 0
    if argv[:1] == ["build"]:
        rest = argv[1:]
        root = rest.pop(0) if rest and not rest[0].startswith("-") else "."
        return build(root, rest)
    root = Path(argv[0]) if argv else Path.cwd()
    if invalidate_stale_cache(root):
        print("The course package or the lock changed: every page will be executed again.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
