"""The app contract's checks and lazy hooks (apps/spec.py)."""

import sys

import pytest

from apps.spec import AppSpec, discover, lazy


def test_lazy_hook_imports_its_module_only_when_called():
    sys.modules.pop("colorsys", None)
    hook = lazy("colorsys:rgb_to_hsv")
    assert "colorsys" not in sys.modules and hook.__name__ == "rgb_to_hsv"
    assert hook(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert "colorsys" in sys.modules


@pytest.mark.parametrize("target", ["colorsys", ":rgb_to_hsv", "colorsys:"])
def test_lazy_hook_needs_module_and_function(target):
    with pytest.raises(ValueError, match="module:function"):
        lazy(target)


def test_spec_names_must_be_slugs():
    with pytest.raises(ValueError, match="slug"):
        AppSpec(name="Bad Name", title="x", build_ui=lambda ctx: None)


def test_reading_the_built_in_specs_imports_no_ui_or_torch():
    import subprocess

    code = ("import sys; from apps.spec import discover; discover(); "
            "print(sorted(m for m in ('gradio', 'torch', 'faiss') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert {"support", "sentiment", "recommender"} <= {s.name for s in discover()}
