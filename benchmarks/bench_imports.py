"""Import cost of each notebook, and the cost of a new MLflow registry (speed issue 22).

Each notebook's import statements (from its code cells, parsed with ``ast``) run in a fresh
interpreter; the CPU time of that process, less a bare interpreter's, is the notebook's import
cost. The MLflow case times a new SQLite registry once MLflow itself is imported: what each
notebook, exercise and test pays per registry.
"""

from __future__ import annotations

import ast
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMPORT_BUDGET = 1.5  # seconds of CPU
REGISTRY_BUDGET = 1.0


def notebook_imports(path: Path) -> str:
    """The import statements of a notebook's code cells, one per line."""
    lines = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        source = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        lines += [ast.unparse(node) for node in ast.walk(tree)
                  if isinstance(node, ast.Import)
                  or (isinstance(node, ast.ImportFrom) and node.level == 0)]
    return "\n".join(dict.fromkeys(lines))


def _cpu_of(code: str) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def cases(wanted=lambda label: True):
    """``wanted(label)`` says which cases to measure (``python -m benchmarks --only``)."""
    bare = _cpu_of("pass")
    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob("*.ipynb")):
            label = f"imports of {folder}/{path.name} (CPU)"
            if wanted(label):
                yield label, _cpu_of(notebook_imports(path)) - bare, IMPORT_BUDGET

    label = "MLflow registry set-up (new SQLite store, imports paid)"
    if not wanted(label):
        return
    code = ("import tempfile, time\n"
            "from mlecourse.principles.versioning import configure_mlflow_offline\n"
            "with tempfile.TemporaryDirectory() as d:\n"
            "    configure_mlflow_offline(d + '/warm')  # pays MLflow's imports\n"
            "    t = time.perf_counter(); configure_mlflow_offline(d + '/new')\n"
            "    print(time.perf_counter() - t)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT,
                         capture_output=True, text=True).stdout.split()[-1]
    yield label, float(out), REGISTRY_BUDGET


if __name__ == "__main__":
    for label, seconds, budget in cases():
        print(f"{label:<64} {seconds:6.3f} s (budget {budget:g} s)")
