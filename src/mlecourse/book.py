"""Building the course's book: keep the execution cache honest.

Jupyter Book caches executed notebooks keyed on their code cells only. When the package the
notebooks import changes, a cached page would still show the old results, so the cache is
also keyed on the package and the lock: :func:`invalidate_stale_cache` empties it when either
changed since the cache was filled. ``make book`` and the test suite call it before building.

``python -m mlecourse.book [ROOT]`` does the same from the command line.
"""

from __future__ import annotations

import hashlib
import shutil
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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path(argv[0]) if argv else Path.cwd()
    if invalidate_stale_cache(root):
        print("The course package or the lock changed: every page will be executed again.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
