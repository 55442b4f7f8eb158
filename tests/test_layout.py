"""Project rules that code review would otherwise have to remember."""

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_engine_never_imports_reflex():
    offenders = []
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "reflex" or name.startswith(("reflex.", "studio")) for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, engine.cli, engine.store.flows; print('reflex' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"


def test_top_level_layout():
    for name in (
        "rxconfig.py",
        "studio",
        "engine",
        "assets",
        "tests",
        "pyproject.toml",
        "docker-compose.yml",
        "README.md",
        ".ci/run",
        "bench",
        "examples",
    ):
        assert (ROOT / name).exists(), name


def _test_modules() -> list[Path]:
    return sorted(path for path in (ROOT / "tests").rglob("*.py") if path.name != "conftest.py")


def _imported_modules(path: Path) -> list[str]:
    """Every module ``path`` imports, relative imports made absolute (``from .conftest`` is ``<package>.conftest``)."""
    package = ".".join(path.relative_to(ROOT).parent.parts)
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found += [module] + [f"{module}.{alias.name}" for alias in node.names]
    return found


def test_tests_import_helpers_from_support_never_from_a_conftest_or_another_test_module():
    """Helpers live in tests/support/; fixtures in conftest.py files, where pytest finds them without an import
    (an imported fixture is a second copy of it, and a conftest imported as a module runs twice)."""
    offenders = []
    for path in _test_modules():
        for module in _imported_modules(path):
            last = module.rsplit(".", 1)[-1]
            if last == "conftest" or (module.startswith("tests.") and last.startswith("test_")):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == []


def _is_fixture(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any("fixture" in ast.unparse(decorator) for decorator in node.decorator_list)


def test_the_db_fixture_is_defined_in_conftest_files_only():
    """One ``db`` for the studio tests (tests/studio/conftest.py): a module needing data seeds it in a fixture of
    its own instead of copying the whole fixture."""
    defined = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == "db" and _is_fixture(node):
                defined.append(str(path.relative_to(ROOT)))
    assert "tests/studio/conftest.py" in defined
    assert [path for path in defined if not path.endswith("/conftest.py")] == []
