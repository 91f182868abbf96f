"""The one provider registry feeds everything: pyproject's entry points and SDK extra, instrument(), doctor and the
demo; importing the package or instrumenting never loads the CLI or the demo; the layers import downwards only."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from otel_llm_cost.providers import INSTRUMENTORS, REGISTRY, registration

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "otel_llm_cost"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_pyproject_entry_points_are_the_registry() -> None:
    assert PYPROJECT["project"]["entry-points"]["opentelemetry_instrumentor"] == INSTRUMENTORS


def test_pyproject_sdk_extra_is_the_registry() -> None:
    extra = PYPROJECT["project"]["optional-dependencies"]["instruments-any"]
    assert sorted(extra) == sorted(r for entry in REGISTRY for r in entry.requires)


def test_every_registration_has_a_provider_case() -> None:
    """The shared provider suite runs for every registered provider (in the main venv every SDK is installed)."""
    from cases import CASES, OWN_VENV, UNAVAILABLE

    if os.environ.get("OTEL_LLM_COST_PARTIAL_SDKS"):
        pytest.skip("a compat venv holding only some SDKs")
    missing = {module: why for module, why in UNAVAILABLE.items() if module not in OWN_VENV}
    assert not missing, f"provider cases whose SDK is not installed: {missing}"
    exempt = {entry for module, (entry, _) in OWN_VENV.items() if module in UNAVAILABLE}
    assert {r.entry_point for r in REGISTRY} - exempt <= {case.entry_point for case in CASES}


def test_providers_in_their_own_venv_run_the_shared_suite_there() -> None:
    """The exemption above is only for a provider whose script runs its case through the shared suite."""
    from cases import OWN_VENV

    for module, (entry, script) in OWN_VENV.items():
        assert entry in INSTRUMENTORS and (ROOT / "tests" / "providers" / f"{module}.py").is_file()
        text = (ROOT / script).read_text(encoding="utf-8")
        assert "tests/providers/test_provider_behaviour.py" in text and "OTEL_LLM_COST_PARTIAL_SDKS=1" in text
        assert f"bash {script}" in (ROOT / "scripts" / "test.sh").read_text(encoding="utf-8")


@pytest.mark.parametrize("entry", REGISTRY, ids=lambda e: e.entry_point)
def test_every_registration_loads_its_instrumentor(entry: object) -> None:
    assert entry is registration(entry.entry_point) is registration(entry.name)  # type: ignore[attr-defined]
    instrumentor = entry.load()  # type: ignore[attr-defined]
    assert instrumentor.name == entry.name  # type: ignore[attr-defined]
    assert tuple(instrumentor.instrumentation_dependencies()) == entry.requires  # type: ignore[attr-defined]
    assert instrumentor.targets()


def test_the_documented_provider_names_are_emitted() -> None:
    """Every provider module names a gen_ai.provider.name the price table knows."""
    from otel_llm_cost.pricing.providers import SEMCONV_TO_TABLE
    from otel_llm_cost.providers.groq import SPEC

    assert SPEC.provider.name == "groq" and "groq" in SEMCONV_TO_TABLE  # type: ignore[union-attr]


def test_instrumenting_loads_neither_cli_nor_demo() -> None:
    code = ("import sys, otel_llm_cost; otel_llm_cost.instrument(); otel_llm_cost.uninstrument(); "
            "print(sorted(m for m in sys.modules if m.startswith('otel_llm_cost.')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "otel_llm_cost.core.calls" in loaded  # it did instrument
    assert "otel_llm_cost.cli" not in loaded and "otel_llm_cost.demo" not in loaded


# package -> packages of ours it may import at module level (lazy imports inside functions are not counted)
ALLOWED = {
    "core": {"core", "pricing", "budgets"},  # budgets: the guard's hook on the call path (the registry: lazily)
    "pricing": {"pricing", "core"},  # core.usage only (checked below)
    "providers": {"providers", "core", "pricing"},
    "budgets": {"budgets", "core", "pricing"},
    "ledger": {"ledger", "core", "pricing", "cli"},
    "cli": {"cli", "core", "pricing", "providers", "budgets", "ledger"},
    "demo": {"demo", "cli", "core", "providers", "ledger"},
}


def _imports(path: Path) -> set[str]:
    """Packages of ours a module imports at module level (``from ..core.x import`` -> core)."""
    package = path.relative_to(PACKAGE).parts[0] if len(path.relative_to(PACKAGE).parts) > 1 else ""
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom) and node.level:
            target = (node.module or "").split(".")[0]
            if node.level == 1:  # the same package (or, from a top-level module, the one it names)
                found.add(package or target)
            elif node.level == 2:
                found.add(target)
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_layers_import_downwards_only(package: str) -> None:
    for path in sorted((PACKAGE / package).glob("*.py")):
        bad = _imports(path) - ALLOWED[package] - {""}
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"



def test_pricing_needs_only_core_usage_at_import() -> None:
    for path in sorted((PACKAGE / "pricing").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.ImportFrom) and node.level == 2 and (node.module or "").startswith("core"):
                assert node.module == "core.usage", path


def test_every_module_imports_alone() -> None:
    """Every module imports on its own in a fresh interpreter (a cycle would fail one of them)."""
    modules = sorted(f"otel_llm_cost.{p.relative_to(PACKAGE).with_suffix('').as_posix().replace('/', '.')}"
                     for p in PACKAGE.rglob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    code = "import importlib, sys\nfor m in sys.argv[1:]:\n    importlib.import_module(m)\n    " \
           "[sys.modules.pop(k) for k in list(sys.modules) if k.startswith('otel_llm_cost')]"
    subprocess.run([sys.executable, "-c", code, *modules], check=True, capture_output=True, text=True)
