"""Build the layers and function code as ``sam build`` would, and read each function's layers from the
template (shared by the size test and ``measure_cold_start.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from renown.template_check import expand, load_template, prepare_offline

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("DepsLayer", "ScoringLayer")
LAYER_DIRS = {"DepsLayer": "deps", "ScoringLayer": "scoring"}
#: Lambda's limit for a function's code plus all its layers, unzipped
UNZIPPED_LIMIT = 262_144_000


def missing_tools() -> list[str]:
    """Build tools the layer build needs that this machine lacks."""
    uv = shutil.which("uv") or str(ROOT / ".venv" / "bin" / "uv")
    needed = {"make": shutil.which("make"), "strip": shutil.which("strip"), "uv": uv}
    return [name for name, path in needed.items() if not path or not Path(path).exists()]


def runtime_python(pyver: str) -> str | None:
    """The interpreter of ``pyver`` (``3.12``) if this machine has one, found as the makefiles find it:
    ``python3.12`` on PATH (a pyenv shim may not run), else a pyenv install of that version."""
    candidates = [f"python{pyver}"]
    if shutil.which("pyenv"):
        pyenv = subprocess.run(["pyenv", "root"], capture_output=True, text=True)
        root = Path(pyenv.stdout.strip())
        if pyenv.returncode == 0 and root.is_dir():
            candidates += sorted(str(p) for p in root.glob(f"versions/{pyver}.*/bin/python{pyver}"))
    check = f"import sys; assert '%d.%d' % sys.version_info[:2] == '{pyver}'; print(sys.executable)"
    for candidate in candidates:
        if not shutil.which(candidate):
            continue
        proc = subprocess.run([candidate, "-c", check], capture_output=True, text=True)
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    return None


def build_layers(
    out: Path, pyver: str = "3.12", numba_cache: str = "required", python: str | None = None
) -> Path:
    """``make -f layers/Makefile build`` into ``out`` (``out/deps``, ``out/scoring``); ``python``: the
    interpreter of ``pyver`` for bytecode and the numba cache (default: the one the Makefile finds)."""
    env = {**os.environ, "NUMBA_CACHE": numba_cache}
    args = ["make", "-s", "-f", str(ROOT / "layers" / "Makefile"), "build", f"ARTIFACTS_DIR={out}"]
    args += [f"PYVER={pyver}"] + ([f"RUNTIME_PYTHON={python}"] if python else [])
    subprocess.run(args, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return out


def build_function(
    out: Path, logical_id: str = "ApiFunction", pyver: str = "3.12", python: str | None = None
) -> Path:
    """``functions/Makefile`` build of one function into ``out`` (its ``/var/task``), with bytecode for
    ``pyver`` when this machine has that interpreter (or ``python``)."""
    args = ["make", "-s", "-f", str(ROOT / "functions" / "Makefile"), f"build-{logical_id}"]
    args += [f"ARTIFACTS_DIR={out}", f"PYVER={pyver}"] + ([f"RUNTIME_PYTHON={python}"] if python else [])
    subprocess.run(args, cwd=ROOT, check=True)
    return out


def tree_size(path: Path) -> int:
    """Bytes of every regular file under ``path`` (what Lambda counts unzipped)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def functions_and_layers() -> dict[str, dict[str, Any]]:
    """Per function of the expanded template: its handler and the logical ids of its layers."""
    template = load_template(ROOT / "template.yaml")
    expanded = expand(prepare_offline(template, ROOT))
    out: dict[str, dict[str, Any]] = {}
    for logical_id, resource in expanded["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        layers = []
        for layer in props.get("Layers", []):
            ref = layer["Ref"] if isinstance(layer, dict) else str(layer)
            # the transform appends a content hash to a LayerVersion's logical id
            layers.append(next(name for name in LAYERS if ref.startswith(name)))
        out[logical_id] = {"handler": props["Handler"], "layers": layers}
    return out


if __name__ == "__main__":  # pragma: no cover - manual use
    print(functions_and_layers(), file=sys.stdout)
