"""Performance figures for ``make bench``: each ``bench_*.py`` module here yields its cases."""
