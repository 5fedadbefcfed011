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
