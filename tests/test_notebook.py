"""The research notebook runs top to bottom (nbclient); any failing cell fails the test."""

import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "buttwink_walkthrough.ipynb"


@pytest.mark.slow
def test_notebook_executes() -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK.parent)}})
    client.execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "butt wink in 3 of 3" in text  # the wink clip's verdict, printed in section 1
    reruns = [float(t) for t in re.findall(r"threshold .*\((\d+\.\d+) s\)", text)]
    assert len(reruns) == 3 and max(reruns) < 5.0  # reruns from saved landmarks skip pose estimation
