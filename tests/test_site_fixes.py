"""The course's site-wide build fixes (mlecourse.scorecard.sphinxext), without a build."""

from __future__ import annotations

import logging

from sphinx.builders.html._assets import _JavaScript

from mlecourse.scorecard import sphinxext


def test_an_inline_script_registered_twice_is_kept_once():
    # Sphinx 7.4 holds the same inline script once with filename None and once with ''.
    body = 'const THEBE_JS_URL = "x"'
    scripts = [_JavaScript(None, body=body), _JavaScript("_static/a.js"),
               _JavaScript("", body=body), _JavaScript("_static/a.js", defer="defer")]
    context = {"script_files": scripts}
    sphinxext._dedupe_scripts(None, "index", "page.html", context, None)
    assert [getattr(s, "attributes", {}).get("body") for s in scripts].count(body) == 1
    assert len(scripts) == 3  # a different attribute is a different script
    assert context["script_files"] is scripts  # changed in place: Sphinx restores it per page


def _record(level, msg, *args):
    return logging.LogRecord("sphinx.myst_nb", level, __file__, 1, msg, args, None)


def test_configuration_dumps_are_dropped_and_warnings_kept():
    quiet = sphinxext._QuietConfigDumps()
    assert not quiet.filter(_record(logging.INFO, "myst v%s: %s", "3.0.1",
                                    "MdParserConfig(commonmark_only=False)"))
    assert not quiet.filter(_record(logging.INFO, "myst-nb v%s: %s", "1.4",
                                    "NbParserConfig(custom_formats={})"))
    assert quiet.filter(_record(logging.INFO, "reading sources... [ 4%%] book/index"))
    assert quiet.filter(_record(logging.WARNING, "bad MdParserConfig(x) value"))


def test_kernels_get_a_quiet_throwaway_profile(monkeypatch):
    import os
    from pathlib import Path

    monkeypatch.delenv("IPYTHONDIR", raising=False)

    class App:
        handlers = []

        def connect(self, event, handler):
            self.handlers.append((event, handler))

    app = App()
    sphinxext._quiet_kernels(app)
    folder = os.environ["IPYTHONDIR"]
    config = Path(folder, "profile_default", "ipython_kernel_config.py").read_text("utf-8")
    assert 'log_level = "ERROR"' in config
    (event, handler), = app.handlers
    assert event == "build-finished"
    handler(app, None)
    assert "IPYTHONDIR" not in os.environ and not Path(folder).exists()


def test_a_chosen_ipython_profile_is_left_alone(monkeypatch, tmp_path):
    import os

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path))
    sphinxext._quiet_kernels(None)
    assert os.environ["IPYTHONDIR"] == str(tmp_path)
