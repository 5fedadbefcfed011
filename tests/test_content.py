"""Content claims of the chapters, the glossary and the configuration that a test can hold.

Each test names the correction it guards (issue 20 of the course: an expert review and a
newcomer's read), so a later edit that brings an error back fails here.
"""

from __future__ import annotations

import ast
import json
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the lock installs tomli there
    import tomli as tomllib

import pytest
import yaml

from conftest import ROOT

BOOK = ROOT / "book"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def read(relative: str) -> str:
    return (ROOT / relative).read_text(encoding="utf-8")


def glossary_entries() -> dict[str, str]:
    text = read("book/glossary.md")
    body = text.split("```{glossary}\n", 1)[1].rsplit("```", 1)[0]
    entries = {}
    for block in re.split(r"\n(?=\S)", body.strip("\n")):
        term, _, definition = block.partition("\n")
        entries[term] = " ".join(definition.split())
    return entries


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,]+),", read("book/references.bib"), flags=re.M))


# --- 1 and 12: ML systems ---------------------------------------------------------------------

# The talk's "What is an ML system?" slide, word for word (pinned here, not read from outside).
TALK_SOURCES = ["Schema", "Sampling over Time", "Volume", "Algorithms", "More Training",
                "Experiments", "Business Needs", "Bug Fixes", "Configuration"]


def test_three_axes_of_change_carry_the_talks_nine_sources():
    from mlecourse.principles.axes import AXES_OF_CHANGE

    assert list(AXES_OF_CHANGE) == ["Data", "Model", "Code"]
    assert all(len(sources) == 3 for sources in AXES_OF_CHANGE.values())
    flat = [s for sources in AXES_OF_CHANGE.values() for s in sources]
    assert [s.lower() for s in flat] == [s.lower() for s in TALK_SOURCES]
    assert "Code" not in flat, "code is an axis, not a tenth source"


def test_ml_systems_chapter_draws_the_axes_and_cites_cd4ml():
    text = read("book/ml-systems.md")
    assert "AXES_OF_CHANGE" in text and "sato2019cd4ml" in text
    assert "Ten sources" not in text and "grouping by colour is ours" not in text


def test_google_level_1_includes_delivery_and_manual_release_sits_between():
    text = read("book/ml-systems.md")
    assert "continuous delivery of the trained model" in text
    assert "sits between levels 0 and 1" in text
    answer = text.split("**4.**", 1)[1]
    assert "Between Google's MLOps levels 0 and 1" in answer


# --- 2 and 3: drift vocabulary ----------------------------------------------------------------

def test_principles_say_concept_drift_needs_labels():
    text = " ".join(read("book/principles.md").split())
    assert "can be flagged before the delayed labels show the damage" not in text
    monitoring = text.split("## Monitoring", 1)[1].split("## Ways of working", 1)[0]
    assert "shows only through the labels" in monitoring


def test_data_drift_is_p_of_x_and_distribution_shift_is_the_umbrella():
    entries = glossary_entries()
    assert "P(X)" in entries["Data drift"]
    assert "Covariate shift, label shift and concept drift are specific kinds" not in \
        entries["Data drift"]
    umbrella = entries["Distribution shift"]
    for kind in ("Data drift", "Label shift", "Concept drift"):
        assert kind.lower() in umbrella.lower()


# --- 10 and 16: glossary ----------------------------------------------------------------------

REVIEWER_TERMS = ["Blue-green deployment", "A/B test", "Rollback", "Continuous training",
                  "Experiment tracking", "Slice", "Calibration", "AUC", "Brier score",
                  "Demographic parity", "Property-based test", "Multiple testing", "Label delay",
                  "Model card"]


def test_glossary_has_the_reviewers_terms_in_alphabetical_order():
    entries = glossary_entries()
    missing = [t for t in REVIEWER_TERMS if t not in entries]
    assert not missing, f"glossary lacks {missing}"
    names = list(entries)
    assert names == sorted(names, key=str.lower)


def test_registry_entry_teaches_aliases_not_stages():
    entry = glossary_entries()["Model registry"]
    assert "candidate, production, archived" not in entry
    assert "aliases" in entry and "2.9" in entry and "mlflow_registry" in entry
    assert "deprecated stages in version 2.9" in read("notebooks/versioning.ipynb")


def test_mlflow_really_marks_stage_transitions_deprecated_since_2_9():
    import warnings

    from mlflow import MlflowClient

    method = MlflowClient.transition_model_version_stage
    doc = method.__doc__ or ""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert "2.9.0" in doc or "2.9" in doc, "MLflow no longer documents the deprecation"


# --- 7 and 9: citations -----------------------------------------------------------------------

def test_mariner_cost_is_cited_to_its_secondary_source():
    text = " ".join(read("book/introduction.md").split())
    cost = text.split("18.5 million", 1)[1][:120]
    assert "mariner1_wikipedia" in cost
    assert "mariner1_wikipedia" in bib_keys()


@pytest.mark.parametrize("path, key", [
    ("book/introduction.md", "brooks1986silver"),
    ("book/index.md", "ibm2022adoption"),
    ("notebooks/testing.ipynb", "ribeiro2020checklist"),
    ("notebooks/model-decay.ipynb", "siddiqi2006credit"),
    ("notebooks/model-decay.ipynb", "yurdakul2018psi"),
])
def test_claims_carry_their_citation(path, key):
    assert key in bib_keys()
    assert f"`{key}`" in read(path) or f"{key}`" in read(path)


def test_uncited_claim_is_gone_from_the_landing_page():
    assert "Most machine learning models never make it into production" not in read("book/index.md")


# --- 8: the cost example ----------------------------------------------------------------------

def _code_cells(md: str) -> list[str]:
    return re.findall(r"```\{code-cell\} ipython3\n(.*?)```", md, flags=re.S)


def test_cost_example_is_computed_and_scaled(capsys):
    text = read("book/introduction.md")
    section = text.split("### 2. Costs compound quickly", 1)[1].split("### 3.", 1)[0]
    (code,) = _code_cells(section)
    namespace: dict = {}
    exec(compile(code, "introduction-cost", "exec"), namespace)  # noqa: S102 - our own cell
    out = capsys.readouterr().out
    total = namespace["per_model_eur"] * namespace["models"] * namespace["years"]
    assert total > 100_000, "the scaled example should show a large bill"
    assert f"{total:,.0f}" in out, "the total the text relies on is printed"
    assert "1,014" in out  # the single inefficiency is still shown, honestly small
    assert "[cost-and-scale notebook](../notebooks/cost-and-scale.ipynb) measures this" in section


# --- 11 and 13: Bridging the gap --------------------------------------------------------------

def test_ml_test_score_is_not_described_as_testing_and_monitoring_only():
    text = " ".join(read("book/bridging-the-gap.md").split())
    row = text.split("| *The ML Test Score*", 1)[1].split("|\n", 1)[0]
    for topic in ("reproducible training", "code review", "rollback"):
        assert topic in row


def test_ml_test_score_really_covers_those_topics():
    from mlecourse.scorecard.rubric import load_rubric

    questions = " ".join(c.question for c in load_rubric("ml-test-score").cells.values())
    for phrase in ("Training is reproducible", "code-reviewed", "rolled back", "canary"):
        assert phrase in questions


def test_chapter_4_no_longer_argues_around_a_flag_that_does_not_fire():
    text = read("book/bridging-the-gap.md")
    assert "no principle here\n  crosses that line" not in text
    assert "{glue:text}`foundation_gap`" not in text


def test_evidence_page_reads_as_a_guide_not_implementation_notes():
    text = read("book/evidence.md").lower()
    assert "explicit stack" not in text


# --- 14 and 15: the worked example ------------------------------------------------------------

def test_chapter_4_gives_a_score_command_that_works_from_the_root():
    text = read("book/bridging-the-gap.md")
    commands = re.findall(r"mlecourse score (\S+\.json)", text)
    assert commands
    for path in commands:
        assert (ROOT / path).is_file(), f"`mlecourse score {path}` names a missing file"


def test_worked_example_table_and_heatmap_live_in_chapter_4_only():
    nb = json.loads(read("notebooks/scorecard.ipynb"))
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    markdown = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert 'plot_heatmap(rubric, example["answers"]' not in code
    assert "worked-example>`" in markdown  # a link to the chapter's worked example
    assert "(worked-example)=" in read("book/bridging-the-gap.md")


# --- 16: the reading list ---------------------------------------------------------------------

def test_reading_list_adds_free_courses_marked_beyond_the_talk():
    text = read("book/conclusion.md")
    section = text.split("### Beyond the talk", 1)[1].split("\n## ", 1)[0]
    assert "not part of the talk" in section
    for key in ("madewithml", "mlopszoomcamp", "dtumlops", "fsdl2022"):
        assert f"`{key}`" in section and key in bib_keys()


# --- 17 and 19: dependencies ------------------------------------------------------------------

# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "pyyaml", "IPython": "ipykernel",
                 "coverage": "pytest-cov", "prometheus_client": "prometheus-client",
                 "dask": "dask[dataframe]"}
STANDARD = set(sys.stdlib_module_names)


def _notebook_imports() -> set[str]:
    found = set()
    for folder in ("notebooks", "solutions"):
        for path in (ROOT / folder).glob("*.ipynb"):
            for cell in json.loads(path.read_text("utf-8"))["cells"]:
                if cell["cell_type"] != "code":
                    continue
                source = "\n".join(line for line in "".join(cell["source"]).splitlines()
                                   if not line.lstrip().startswith(("%", "!")))
                try:
                    tree = ast.parse(source)
                except SyntaxError:
                    continue
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        found |= {a.name.split(".")[0] for a in node.names}
                    elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                        found.add(node.module.split(".")[0])
    return found - STANDARD - {"mlecourse"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;]", requirement, maxsplit=1)[0].lower()


def test_course_extra_pulls_everything_the_notebooks_import():
    project = tomllib.loads(read("pyproject.toml"))["project"]
    declared = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["course"]}
    missing = sorted(DISTRIBUTIONS.get(m, m).lower() for m in _notebook_imports()
                     if DISTRIBUTIONS.get(m, m).lower() not in declared | {"ipykernel"})
    assert not missing, f"mlecourse[course] lacks {missing}"


def test_course_extra_bounds_match_requirements_in():
    project = tomllib.loads(read("pyproject.toml"))["project"]
    pinned = {_name(line): line.split("#")[0].strip()
              for line in read("requirements.in").splitlines()
              if line.strip() and not line.startswith("#")}
    for requirement in project["optional-dependencies"]["course"]:
        assert pinned.get(_name(requirement), "").replace(" ", "") == requirement.replace(" ", "")


def test_pandera_lower_bound_provides_pandera_pandas():
    line = next(x for x in read("requirements.in").splitlines() if x.startswith("pandera"))
    bound = tuple(int(p) for p in re.search(r">=([\d.]+)", line).group(1).split("."))
    assert bound >= (0, 24)


COLAB_GUARD = 'if "google.colab" in sys.modules:'


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_installs_the_course_only_on_colab(path):
    cells = json.loads(path.read_text("utf-8"))["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    source = "".join(first["source"])
    assert COLAB_GUARD in source
    install = [line for line in source.splitlines() if "%pip install" in line]
    assert install and all(line.startswith("    ") for line in install), "install only under the guard"
    assert "mlecourse[course]" in install[0]


# --- 18, 20, 24, 26: launch buttons, Binder, setup order, CI ----------------------------------

def test_no_placeholder_jupyterhub_button():
    config = yaml.safe_load(read("_config.yml"))
    hub = config["launch_buttons"].get("jupyterhub_url")
    assert not hub or "example." not in hub
    assert "jupyterhub_url:" in read("book/instructor-guide.md")


def test_theme_mode_is_a_valid_one():
    config = yaml.safe_load(read("_config.yml"))
    assert config["sphinx"]["config"]["html_context"]["default_mode"] in {"auto", "light", "dark"}


def test_postbuild_installs_the_package_only_if_repo2docker_did_not():
    lines = [x for x in read("postBuild").splitlines() if x.strip() and not x.startswith("#")]
    installs = [x for x in lines if "pip install" in x]
    assert installs and all("import mlecourse" in x and "||" in x for x in installs)


def _setup_order(text: str) -> list[str]:
    return re.findall(r"^make (book|test)\b", text, flags=re.M)


def test_setup_commands_in_one_order_everywhere():
    assert _setup_order(read("README.md"))[:2] == ["book", "test"]
    assert _setup_order(read("book/index.md"))[:2] == ["book", "test"]


def test_ci_points_the_browser_tests_at_the_runners_browser():
    workflow = yaml.safe_load(read(".github/workflows/test.yml"))
    steps = workflow["jobs"]["test"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "apt-get install" not in runs
    assert "MLECOURSE_BROWSER=" in runs and "GITHUB_ENV" in runs
    assert "google-chrome" in runs
