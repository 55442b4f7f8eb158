"""Project rules that code review would otherwise have to remember."""

import ast
import re
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


# --- the store is the only place that runs SQL ---------------------------------------------------------------

# Statement builders: whoever imports one of these from SQLAlchemy or SQLModel writes a query. Building a bare
# condition (``or_``, ``col``, ``true``) is not running SQL: ``engine.identity.authz.readable`` hands one to the store.
QUERY_BUILDERS = frozenset({"select", "insert", "update", "delete", "text", "func", "exists", "union", "Select"})
# What a ``session`` (or a raw ``connection``) does that reads or writes the database. ``commit``/``rollback``
# are left to the caller on purpose: the entry points and runtime loops own their transactions.
SESSION_CALLS = frozenset(
    {"exec", "execute", "scalar", "scalars", "get", "add", "add_all", "delete", "merge", "flush", "refresh", "query"}
)
DATABASE_HANDLES = frozenset({"session", "own", "connection"})
# Modules outside engine/store that still run SQL, each with why. The list only shrinks: a new module running
# SQL must add its queries to a store module instead.
SQL_ALLOWED = {
    "engine/tasks/sql/": "the SQL task types run its user's query against their database, not Lanner's",
}


def _sql_allowed(relative: str) -> bool:
    """A module listed by name, or inside a listed folder (a key ending in /)."""
    return any(relative == key or (key.endswith("/") and relative.startswith(key)) for key in SQL_ALLOWED)


def _runs_sql(tree: ast.AST) -> list[str]:
    """Where a module builds a statement or sends one through a session: ``line: what``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("sqlalchemy", "sqlmodel"):
            found += [f"{node.lineno}: imports {a.name}" for a in node.names if a.name in QUERY_BUILDERS]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            receiver = node.func.value
            name = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", None)
            if name in DATABASE_HANDLES and node.func.attr in SESSION_CALLS:
                found.append(f"{node.lineno}: {name}.{node.func.attr}()")
    return found


def _modules_outside_store():
    for folder in ("engine", "studio"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(("engine/store/", "engine/migrations/")):
                yield relative, ast.parse(path.read_text())


def test_only_the_store_runs_sql():
    offenders = {
        relative: where
        for relative, tree in _modules_outside_store()
        if (where := _runs_sql(tree)) and not _sql_allowed(relative)
    }
    assert offenders == {}, "move these queries into a module of engine/store/"
    clean = {relative for relative, tree in _modules_outside_store() if not _runs_sql(tree)}
    allowed_files = {key for key in SQL_ALLOWED if not key.endswith("/")}
    assert sorted(clean & allowed_files) == [], "no SQL left: remove these from SQL_ALLOWED (it only shrinks)"


def test_the_sql_scan_sees_queries():
    """The rule above is only as good as its scan: it must see each way of running SQL."""
    sample = ast.parse(
        "from sqlmodel import select\n"
        "def f(session):\n"
        "    session.exec(1)\n"
        "    session.get(User, 1)\n"
        "    session.add(row)\n"
    )
    assert _runs_sql(sample) == ["1: imports select", "3: session.exec()", "4: session.get()", "5: session.add()"]
    assert _runs_sql(ast.parse("from sqlalchemy import or_\ndef f(session):\n    session.commit()\n")) == []


def _formats_for_display(tree: ast.AST) -> list[str]:
    """Where a module words a value for a page: a strftime call, a date format in an f-string (``{at:%H:%M}``),
    or an import of ``studio.display`` (the page states' helpers)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "strftime":
            found.append(f"{node.lineno}: strftime()")
        elif isinstance(node, ast.FormattedValue) and node.format_spec is not None and "%" in ast.unparse(node):
            found.append(f"{node.lineno}: a date format in an f-string")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "studio"
            and any(a.name == "display" for a in node.names)
        ) or (
            isinstance(node, ast.ImportFrom | ast.Import)
            and "studio.display"
            in {node.module if isinstance(node, ast.ImportFrom) else None, *(a.name for a in node.names)}
        ):
            found.append(f"{node.lineno}: imports studio.display")
    return found


def test_the_studio_services_hold_no_display_formatting():
    """Issue 13: the services return typed values; the page states word them through studio/display.py."""
    offenders = {
        path.name: where
        for path in sorted((ROOT / "studio" / "services").glob("*.py"))
        if (where := _formats_for_display(ast.parse(path.read_text())))
    }
    assert offenders == {}, "return the typed value and word it in the page state with studio.display"


def test_the_display_scan_sees_formatting():
    sample = ast.parse(
        "from studio import display\nimport studio.display\na = at.strftime('%Y')\nb = f'{at:%H:%M} {n:.1f}'\n"
    )
    assert _formats_for_display(sample) == [
        "1: imports studio.display",
        "2: imports studio.display",
        "3: strftime()",
        "4: a date format in an f-string",
    ]


# The store stands on these alone (its own modules aside): the tables' vocabulary, nothing that decides.
STORE_MAY_IMPORT = {
    "engine.core.states": "execution and task run states (pure)",
    "engine.flows.model": "the flow model, which save_flow stores (pure pydantic models)",
    "engine.core.levels": "the log levels and their order (pure, a leaf module)",
    "engine.core.namespaces": "the namespace hierarchy and its SQL subtree condition (pure)",
    "engine.core.errors": "the four kinds of refusal the store raises (pure, imports nothing from engine)",
}


def test_the_store_imports_nothing_above_it():
    offenders = []
    for path in sorted((ROOT / "engine" / "store").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] if node.module != "engine" else [f"engine.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                if name.startswith("engine") and not name.startswith("engine.store") and name not in STORE_MAY_IMPORT:
                    offenders.append(f"{path.relative_to(ROOT)}: {name}")
    assert offenders == []
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pkgutil, importlib, engine.store\n"
            "for m in pkgutil.iter_modules(engine.store.__path__): importlib.import_module('engine.store.' + m.name)\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('engine.') and '.store' not in m)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    # What the allowed modules bring along must stay below the store too: no flow loader, task registry,
    # settings, secrets, progress or services.
    assert set(loaded.stdout.split()) <= {
        "engine.core",  # the packages themselves: a docstring each
        "engine.flows",
        "engine.core.states",
        "engine.flows.model",
        "engine.flows.inputs",
        "engine.core.durations",
        "engine.core.retry",
        "engine.flows.spec",
        "engine.flows.task_defaults",
        "engine.flows.triggers",
        "engine.flows.sla",
        "engine.core.errors",
        "engine.core.levels",
        "engine.core.namespaces",
    }


def _python_sources() -> list[Path]:
    return [path for part in ("engine", "studio") for path in (ROOT / part).rglob("*.py")]


def test_only_the_settings_read_lanner_variables():
    """Every LANNER_* setting is read once, by engine/config.py; a child's environment may still be written."""
    reads = re.compile(r"""(?:environ\.get|getenv)\(\s*["']LANNER_|environ\[\s*["']LANNER_[A-Z_]*["']\s*\](?!\s*=)""")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_sources()
        if path != ROOT / "engine" / "config.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if reads.search(line)
    ]
    assert offenders == []


def test_the_terminal_states_are_defined_once():
    """engine/core/states.py TERMINAL is the set (its members compare equal to their strings): nobody copies it."""
    copies = re.compile(r"^\s*(?:[A-Z_]*TERMINAL|RUN_ENDED)\s*=|\bif\s+s\.terminal\s*\}")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in _python_sources()
        if path != ROOT / "engine" / "core" / "states.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if copies.search(line)
    ]
    assert offenders == []


def test_log_levels_are_defined_once():
    spelled_out = re.compile(r"""["']TRACE["'],\s*["']DEBUG["'],\s*["']INFO["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_sources()
        if path != ROOT / "engine" / "core" / "levels.py" and spelled_out.search(path.read_text())
    ]
    assert offenders == []


def test_every_state_and_level_has_one_colour():
    from engine.core.levels import LogLevel
    from engine.core.palette import LEVEL_COLOURS, STATE_COLOURS, css_variable, css_variables
    from engine.core.states import State

    assert set(STATE_COLOURS) == set(State) and set(LEVEL_COLOURS) == set(LogLevel)
    stylesheet = css_variables()
    for state, colour in STATE_COLOURS.items():
        assert f"{css_variable(state)}: {colour};" in stylesheet


def test_colours_are_not_copied_out_of_the_palette():
    """The canvas' JSX reads state colours as CSS variables and Python modules import the table."""
    from engine.core.palette import LEVEL_COLOURS, STATE_COLOURS

    palette = {colour.lower() for colour in [*STATE_COLOURS.values(), *LEVEL_COLOURS.values()]}
    canvas = (ROOT / "assets" / "flow_canvas.jsx").read_text().lower()
    assert sorted(colour for colour in palette if colour in canvas) == []
    assert "var(--lanner-state-" in canvas
    tables = re.compile(r"""["'](?:SUCCESS|FAILED|RUNNING)["']\s*:\s*["']#""")
    offenders = [str(path.relative_to(ROOT)) for path in _python_sources() if tables.search(path.read_text())]
    assert offenders == []


def test_lanner_help_loads_neither_the_studio_nor_the_worker_nor_the_api():
    # `lanner --help` and the quick commands must start fast: the worker (RQ), the executor and the API app load
    # only in the commands that run them.
    heavy = (
        "reflex",
        "engine.runtime.worker",
        "rq.worker",
        "engine.runtime.server",
        "engine.runtime.executor",
        "engine.api",
        "uvicorn",
    )
    code = (
        "import sys\nfrom click.testing import CliRunner\nfrom engine.cli import main\n"
        "done = CliRunner().invoke(main, ['--help'])\nassert done.exit_code == 0, done.output\n"
        f"print(','.join(name for name in {heavy!r} if name in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert loaded.stdout.strip() == ""


# --- entry points are adapters -------------------------------------------------------------------------------

ENTRY_POINTS = ("engine/api", "engine/cli", "studio")
# The one entry-point module that may load the RQ worker: `lanner worker` starts it.
MAY_START_THE_WORKER = {"engine/cli/servers.py"}


def test_entry_points_never_touch_redis_nor_load_the_worker():
    """The API, the CLI and the studio go through engine/services and engine/runtime's live followers: they never
    open Redis themselves (a connection comes from engine.runtime.connection) nor import the RQ worker."""
    offenders = []
    for folder in ENTRY_POINTS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
                else:
                    continue
                if any(name == "redis" or name.startswith("redis.") for name in names):
                    offenders.append(f"{relative} imports redis")
                if "engine.runtime.worker" in names and relative not in MAY_START_THE_WORKER:
                    offenders.append(f"{relative} imports the worker")
    assert offenders == []


# The studio holds no session nor column of its own either (the API and the CLI may name a SQLAlchemy type in a
# signature, e.g. the Engine a command opens through engine.services.connections).
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel")


def test_entry_points_never_import_the_store():
    """The API, the CLI and the studio read and change through engine/services (typed views in, typed views out),
    never the store's rows. (Opening the database, migrations included, is ``engine.services.connections``'s.)"""
    found: dict[str, list[str]] = {}
    for folder in ENTRY_POINTS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for module in _imported_modules(path):
                library = folder == "studio" and module.split(".")[0] in DATABASE_LIBRARIES
                if library or f"{module}.".startswith("engine.store."):
                    found.setdefault(relative, []).append(module)
    assert found == {}


def test_the_engine_is_read_in_one_hop():
    """engine/ holds packages that name the parts (docs/architecture.md), plus config and the scripts' SDK."""
    engine = ROOT / "engine"
    modules = sorted(p.name for p in engine.glob("*.py"))
    packages = sorted(p.name for p in engine.iterdir() if (p / "__init__.py").exists())
    assert modules == ["__init__.py", "__main__.py", "config.py", "sdk.py"]
    assert packages == [
        "api", "blueprints", "cli", "core", "flows", "identity", "messaging", "metrics", "migrations", "runtime", "services", "storage", "store",
        "tasks",
        "workspace",
    ]  # fmt: skip
    for package in packages:
        assert ast.get_docstring(ast.parse((engine / package / "__init__.py").read_text())), package


def test_the_core_does_no_io():
    """engine/core is pure: no database, Redis, HTTP, processes, nor the parts that do them. It reads the flow
    model, the task models and the access rule table, which are pure too."""
    io_parts = ("engine.store", "engine.runtime", "engine.services", "engine.api", "engine.cli", "engine.workspace")
    io_libraries = ("sqlmodel", "redis", "rq", "httpx", "subprocess", "socket", "fastapi", "psycopg")
    offenders = []
    for path in sorted((ROOT / "engine" / "core").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.startswith(io_parts) or name.split(".")[0] in io_libraries:
                    offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []
