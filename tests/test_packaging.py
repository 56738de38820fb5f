"""pyproject.toml declares what the code imports, lists every package, and ships data/ in the wheel."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCAL = {"shared", "apps", "lorasuite_data", "__future__"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(requirements: list[str]) -> set[str]:
    return {_norm(re.split(r"[\s<>=!~;\[]", r, maxsplit=1)[0]) for r in requirements}


def _imports() -> set[str]:
    found: set[str] = set()
    for path in [*ROOT.joinpath("shared").rglob("*.py"), *ROOT.joinpath("apps").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m not in LOCAL}


def test_every_third_party_import_is_a_core_dependency():
    core = _declared(PYPROJECT["project"]["dependencies"])
    owners = packages_distributions()
    missing = {}
    for module in sorted(_imports()):
        dists = {_norm(d) for d in owners.get(module, [module])}
        if not dists & core:
            missing[module] = sorted(dists)
    assert not missing, f"imported but not in [project].dependencies: {missing}"


def test_nothing_declared_that_nothing_uses():
    assert "psutil" not in _declared(PYPROJECT["project"]["dependencies"])
    assert all("psutil" not in _declared(extra) for extra in PYPROJECT["project"]["optional-dependencies"].values())
    requires = {r for r in PYPROJECT["project"]["dependencies"] if r.startswith("gradio")}
    assert requires == {"gradio>=6"}  # the UIs use Gradio 6's api_visibility


def test_every_package_is_listed_and_data_ships_in_the_wheel():
    setuptools = PYPROJECT["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("shared", "apps")
               for p in ROOT.joinpath(top).rglob("__init__.py")}
    assert on_disk <= set(setuptools["packages"]), f"add to [tool.setuptools] packages: {on_disk - set(setuptools['packages'])}"
    assert setuptools["package-dir"]["lorasuite_data"] == "data"
    assert PYPROJECT["tool"]["setuptools"]["package-data"]["lorasuite_data"] == ["**/*"]


def test_data_root_falls_back_to_the_installed_copy(tmp_path, monkeypatch):
    from shared import home

    installed = tmp_path / "site" / "lorasuite_data"
    (installed / "adapters").mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    monkeypatch.delenv("LORASUITE_DATA", raising=False)
    assert home.data_root() == ROOT / "data"  # a checkout uses its own data/
    monkeypatch.setattr(home, "PROJECT_ROOT", tmp_path / "site-packages")  # an installed wheel: no data/ beside
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    assert home.data_root() == installed
    monkeypatch.setenv("LORASUITE_DATA", str(tmp_path / "mine"))
    assert home.data_dir("x") == tmp_path / "mine" / "x"


def test_docker_image_needs_no_lorasuite_data():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "LORASUITE_DATA=" not in dockerfile
    assert dockerfile.index("COPY data ") < dockerfile.index('RUN pip install ".')
