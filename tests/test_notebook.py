"""The research notebook: stored without outputs, in step with its generator, and it runs top to bottom
(nbclient, working directory notebooks/); any failing cell fails the test.

The kernel is the ``python3`` kernel of the interpreter running the tests, found without any installed
kernelspec: a kernelspec manager with no kernel folders falls back to ipykernel's native spec, which
launches ``sys.executable``. So a stray ``python3`` kernelspec of another Python on the machine is never
picked, and a fresh venv needs nothing beyond ipykernel.
"""

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOK = NOTEBOOKS / "buttwink_walkthrough.ipynb"
SAMPLES = NOTEBOOKS.parent / "sample_videos"

nbformat = pytest.importorskip("nbformat")


def test_notebook_is_stored_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert len(code) >= 8
    assert [c for c in code if c.outputs or c.execution_count is not None] == []


def test_notebook_matches_its_generator(tmp_path: Path) -> None:
    out = tmp_path / "nb.ipynb"
    subprocess.run([sys.executable, str(NOTEBOOKS / "make_notebook.py"), str(out)], check=True)
    def cells(path: Path) -> list[tuple[str, str]]:
        return [(c.cell_type, c.source) for c in nbformat.read(path, as_version=4).cells]

    assert cells(out) == cells(NOTEBOOK), "run python notebooks/make_notebook.py and commit the result"


def _kernel_manager():
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    specs = KernelSpecManager(kernel_dirs=[])  # only ipykernel's native spec: this interpreter
    assert specs.get_kernel_spec("python3").argv[0] == sys.executable
    return KernelManager(kernel_name="python3", kernel_spec_manager=specs)


@pytest.mark.slow
def test_notebook_executes() -> None:
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, km=_kernel_manager(), timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOKS)}})
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.perf_counter() - t0
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert [o for o in outputs if o.output_type == "error"] == []
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= 5  # landmarks, contour, raw vs smoothed, reps + onset, settings comparison
    clips = sorted(p.name for p in SAMPLES.iterdir() if (p / "video.mp4").exists())
    compared = re.search(r"clips compared: (.*)", text)
    assert compared and compared.group(1).split(", ") == clips  # one comparison table over every sample clip
    per_clip = re.search(r"\(([\d.]+) s per clip\)", text)
    reruns = [float(t) for t in re.findall(r"rerun .* from saved landmarks: ([\d.]+) s", text)]
    assert per_clip and len(reruns) == 4  # default, cutoff 2 Hz, threshold 20°, each rep on its own
    assert max(reruns) < float(per_clip.group(1)) / 5  # reruns skip pose estimation: far faster
    assert "PathFileType\t4" in text  # the export section wrote a TRC
    print(f"notebook executed in {elapsed:.1f} s")
