"""``mlecourse score``: mean beside weakest, Markdown, and one line for any unreadable file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from mlecourse import cli
from mlecourse.scorecard.report import result_markdown
from mlecourse.scorecard.rubric import load_rubric
from mlecourse.scorecard.scoring import score

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = resources.files("mlecourse.scorecard")


def _fixture(name: str) -> dict:
    text = (PACKAGE / "fixtures" / f"{name}.json").read_text("utf-8")
    data = json.loads(text)
    return data.get("assessment", data)


def _write(tmp_path, data, name="a.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _run(capsys, *args) -> tuple[int, str, str]:
    status = cli.main(["score", *map(str, args)])
    out, err = capsys.readouterr()
    return status, out, err


def test_text_shows_mean_weakest_and_how_many_cells_are_answered(tmp_path, capsys):
    status, out, err = _run(capsys, _write(tmp_path, _fixture("mle-maturity-not-in-place")))
    assert status == 0 and err == ""
    assert "Overall (mean)     1.3  over 7 of 18 cells" in out
    assert "Weakest principle  0.0  (Monitoring)" in out
    # level-0 cells come first among the next steps
    assert out.index("1. Versioning, Model (level 0)") < out.index("4. Testing, Model (level 1)")


def test_markdown_is_the_table_the_page_exports(tmp_path, capsys):
    data = _fixture("mle-maturity-partial")
    status, out, _ = _run(capsys, _write(tmp_path, data), "--format", "markdown")
    rubric = load_rubric("mle-maturity")
    assert status == 0
    assert out == result_markdown(rubric, score(rubric, data["answers"]))
    assert "| Versioning | 3 | – | 3 | 3.0 |" in out
    assert "| **Overall (mean)** | | | | **2.8** over 4 of 18 cells |" in out
    assert "| **Weakest principle** | | | | **2.0** (Testing) |" in out


def test_markdown_escapes_text_from_a_rubric_file(tmp_path, capsys):
    text = (PACKAGE / "rubrics" / "ml-test-score.yaml").read_text("utf-8")
    rubric_file = tmp_path / "mts.yaml"
    rubric_file.write_text(text.replace("name: Features and data", "name: Features | <b>data</b>"),
                           encoding="utf-8")
    path = _write(tmp_path, _fixture("ml-test-score-partial"))
    status, out, _ = _run(capsys, path, "--rubric", rubric_file, "--format", "markdown")
    assert status == 0
    assert "| Features \\| &lt;b&gt;data&lt;/b&gt; |" in out and "<b>" not in out
    assert "| **Final (lowest section sum)** |" in out and "Weakest" not in out


def _one_line_error(status, out, err, *fragments):
    assert status == 2 and out == ""
    assert err.startswith("mlecourse score: ") and err.count("\n") == 1, err
    for f in fragments:
        assert f in err, err


def test_deeply_nested_json_is_one_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    _one_line_error(*_run(capsys, path), str(path), "nested too deeply")
    data = _fixture("mle-maturity-full")
    data["evidence"] = {"versioning.code": [{"signal": "git", "detail": "DEEP"}]}
    path = tmp_path / "deep-evidence.json"
    path.write_text(json.dumps(data).replace('"DEEP"', '{"x":' * 5000 + "{}" + "}" * 5000),
                    encoding="utf-8")
    _one_line_error(*_run(capsys, path), "deep-evidence.json", "nested too deeply")


def test_a_file_that_is_not_utf8_names_the_file(tmp_path, capsys):
    path = tmp_path / "utf16.json"
    path.write_bytes(json.dumps(_fixture("mle-maturity-full")).encode("utf-16"))
    _one_line_error(*_run(capsys, path), str(path), "not UTF-8")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path, capsys):
    path = tmp_path / "bom.json"
    path.write_bytes(json.dumps(_fixture("mle-maturity-full")).encode("utf-8-sig"))
    assert _run(capsys, path)[0] == 0


def test_a_file_over_the_size_cap_is_refused_before_reading(tmp_path, capsys):
    data = _fixture("mle-maturity-full")
    data["notes"] = {"versioning.code": "x" * 3_000_000}
    _one_line_error(*_run(capsys, _write(tmp_path, data, "big.json")), "big.json",
                    "at most 2,000,000")


def test_nan_and_missing_files_are_one_line(tmp_path, capsys):
    path = tmp_path / "nan.json"
    data = _fixture("mle-maturity-full")
    data["answers"]["versioning.code"] = "NAN"
    path.write_text(json.dumps(data).replace('"NAN"', "NaN"), encoding="utf-8")
    _one_line_error(*_run(capsys, path), "nan.json", "NaN is not a JSON number")
    _one_line_error(*_run(capsys, tmp_path), "no such assessment file")


def test_the_rubric_id_in_a_file_is_never_a_path(tmp_path, capsys):
    # a perfectly good rubric file sits where the "id" points: it must still not be opened
    rubric_text = (PACKAGE / "rubrics" / "mle-maturity.yaml").read_text("utf-8")
    (tmp_path / "evil.yaml").write_text(rubric_text, encoding="utf-8")
    for rubric_id in ["../../../../etc/passwd", str(tmp_path / "evil.yaml"), "evil.yaml"]:
        data = _fixture("mle-maturity-full")
        data["rubric"]["id"] = rubric_id
        _one_line_error(*_run(capsys, _write(tmp_path, data)), "field 'rubric[\"id\"]'",
                        "not a path")
    data = _fixture("mle-maturity-full")
    data["rubric"]["id"] = "evil"       # a well-formed id that no folder knows
    _one_line_error(*_run(capsys, _write(tmp_path, data)), "unknown rubric 'evil'")


def test_a_path_is_accepted_from_the_rubric_option_and_ids_from_a_configured_folder(
        tmp_path, capsys, monkeypatch):
    text = (PACKAGE / "rubrics" / "mle-maturity.yaml").read_text("utf-8")
    folder = tmp_path / "rubrics"
    folder.mkdir()
    team = text.replace("id: mle-maturity", "id: team-maturity")
    (folder / "team-maturity.yaml").write_text(team, encoding="utf-8")
    data = _fixture("mle-maturity-full")
    data["rubric"]["id"] = "team-maturity"
    path = _write(tmp_path, data)
    status, out, _ = _run(capsys, path, "--rubric", folder / "team-maturity.yaml")
    assert status == 0 and "(team-maturity 1.1.0)" in out
    _one_line_error(*_run(capsys, path), "unknown rubric 'team-maturity'")
    monkeypatch.setenv("MLECOURSE_RUBRIC_PATH", str(folder))
    status, out, _ = _run(capsys, path)
    assert status == 0 and "Overall (mean)     1.9" in out


def test_a_closed_pipe_exits_quietly(tmp_path):
    path = _write(tmp_path, _fixture("worked-example"))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-m", "mlecourse", "score", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()                      # like `| head` that has stopped reading
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0
    assert err == ""


def test_a_broken_pipe_inside_the_command_is_not_an_error(tmp_path, capsys, monkeypatch):
    class ClosedPipe:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["score", str(_write(tmp_path, _fixture("worked-example")))]) == 0
    monkeypatch.undo()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_every_format_counts_answers(tmp_path, capsys, fmt):
    status, out, _ = _run(capsys, _write(tmp_path, _fixture("mle-maturity-rounding-quarter")),
                          "--format", fmt)
    assert status == 0
    if fmt == "json":
        data = json.loads(out)
        assert data["answered"] == 4 and data["total"] == 18
        assert data["scores"]["weakest"] == "1.0" and data["weakest_groups"] == ["testing"]
    else:
        assert "over 4 of 18 cells" in out
