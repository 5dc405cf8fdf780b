"""The example notebook runs from start to finish in a real Jupyter kernel (docs/tutorials/).

The kernel is this interpreter (a kernel spec written to a temporary ``JUPYTER_PATH``, so
whatever kernels the machine has registered do not matter). The matplotlib backend is the
notebook's own (inline), so the executed notebook carries its charts as PNG display data, as an
analyst sees them; the figures are also saved to a temporary folder instead of docs/images/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")
pytest.importorskip("pandas")

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "tutorials" / "policy-simulation.ipynb"
FIGURES = ("pass-rates.png", "timeline.png", "funnel.png", "days-to-certification.png")


def _register_this_interpreter(folder: Path) -> str:
    name = "kmbase-notebook-test"
    spec_dir = folder / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "kmbase (tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return name


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_the_example_notebook_runs_end_to_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kernel = _register_this_interpreter(tmp_path / "jupyter")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebook chooses inline itself
    monkeypatch.setenv("KMBASE_FIGURES", str(tmp_path / "figures"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name=kernel,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error

    text = "\n".join(
        output.get("text", "") + json.dumps(output.get("data", {}), ensure_ascii=False)
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert "more bases qualify with 30 residents" in text
    assert "most binding under the 2022 measures" in text
    assert "政策变体比较" in text  # the comparison's HTML
    assert "认定时间模拟" in text  # the timelines' HTML
    assert "不符合申报条件" in text  # a verdict's HTML
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.get("output_type") == "display_data" and "image/png" in output.get("data", {})
    ]
    assert len(images) >= len(FIGURES)  # every chart is shown inline, none only saved
    for name in FIGURES:
        figure = tmp_path / "figures" / name
        assert figure.stat().st_size > 1000, name
