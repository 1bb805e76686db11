"""cielo.session in a real Jupyter kernel: one call, the namespace at top level, the magics."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


def test_session_and_magics_in_a_notebook(private_dirs: Path, monkeypatch):
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(private_dirs / "runtime"))
    cells = [
        "import cielo\nns = cielo.session('sim')\nglobals().update(ns)\n%load_ext cielo.shell",
        "%mov motor 2",
        "%wa motor",
        "RE(scan([det], motor, -3, 3, 13))",
        "print(cat[-1].metadata['stop']['exit_status']); ns.close()",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3").execute()

    def text(cell: int) -> str:
        outputs = nb.cells[cell].outputs
        parts = [o.get("text", "") for o in outputs if o["output_type"] == "stream"]
        parts += [
            o["data"].get("text/plain", "")
            for o in outputs
            if o["output_type"] in ("display_data", "execute_result")
        ]
        return "".join(parts)

    assert "│ motor │        2 │ mm" in text(2)
    scanned = text(3)
    assert (
        "13 events in stream 'primary'" in scanned
        and "peak stats of det vs motor: cen=0" in scanned
    )
    assert text(4).strip() == "success"
