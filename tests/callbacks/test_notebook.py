"""In a real Jupyter kernel: the table streams into the cell that ran the plan, and so
does the plot (matplotlib-inline), with or without the plugins on the engine.

Needs ``ipykernel`` and ``nbclient`` (not cielo dependencies): skipped without them.
"""

from __future__ import annotations

import base64

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def run_notebook(cells: list[str]) -> list[list[dict]]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    return [list(cell.outputs) for cell in nb.cells]


@pytest.mark.parametrize(
    "engine",
    ["RunEngine(scan_id_file=None)", "RunEngine(scan_id_file=None, plugin_manager=env.pm)"],
)
def test_table_and_plot_show_in_the_cell_that_ran_the_plan(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("CIELO_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MPLBACKEND", raising=False)
    outputs = run_notebook(
        [
            f"import cielo\nenv = cielo.load_profile('sim')\nRE = cielo.{engine}",
            "RE.subscribe(env.callbacks['best_effort'](plots=['line']))\n"
            "uids = RE(env.plans['scan']([env.devices['det']], env.devices['motor'], -2, 2, 9))",
            "print('next cell')",
        ]
    )
    ran = outputs[1]
    text = "".join(o["text"] for o in ran if o["output_type"] == "stream")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "seq_num" not in line]
    assert len(rows) == 1 + 9 and "success: scan" in text  # units row + one row per event
    images = [o for o in ran if o["output_type"] == "display_data" and "image/png" in o["data"]]
    assert len(images) == 1
    assert base64.b64decode(images[0]["data"]["image/png"]).startswith(b"\x89PNG")
    assert [o["output_type"] for o in outputs[2]] == ["stream"]  # no late figure here
