"""Every provider package has the one shape that docs/architecture.md describes.

Same file names in all five; `__init__.py` only names the provider; models and records never
import flask; stored records are frozen dataclasses with `to_value`/`from_value`; `admin.py`
holds the provider's fixtures, seed, state view, dashboard card, magic values and credentials,
and the `Provider` finds them there (and its views, errors, settings and CLI) by the shape;
a client module per provider that imports neither flask nor the providers; and no name
reachable from two module paths (no re-exports, no `__all__`).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from mockbank import create_app
from mockbank.providers import NAMES, Provider

PACKAGE = Path(__file__).resolve().parents[2] / "mockbank"
PROVIDERS = PACKAGE / "providers"
CLIENTS = PACKAGE / "clients"
ADMIN_FUNCTIONS = (
    "load_fixtures",
    "seed",
    "state_view",
    "dashboard",
    "magic_values",
    "credentials",
)


def _module_or_package(folder: Path, name: str) -> Path | None:
    """`name.py` or `name/__init__.py` under `folder`."""
    for path in (folder / f"{name}.py", folder / name / "__init__.py"):
        if path.is_file():
            return path
    return None


def _files_of(folder: Path, name: str) -> list[Path]:
    """Every source file of module `name` (a file, or a package and all its files)."""
    if (folder / name).is_dir():
        return sorted((folder / name).rglob("*.py"))
    return [folder / f"{name}.py"] if (folder / f"{name}.py").is_file() else []


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), str(path))


def _imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in `tree`, `from a import b` giving both a and a.b."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _imports_of(paths: list[Path], banned: tuple[str, ...]) -> list[str]:
    """`path:line module` for each import of a banned module (or anything under it)."""
    found = []
    for path in paths:
        for line, module in _imported_modules(_parse(path)):
            if any(module == b or module.startswith(b + ".") for b in banned):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line} {module}")
    return sorted(set(found))


def _frozen(kind: type) -> bool:
    return bool(getattr(getattr(kind, "__dataclass_params__", None), "frozen", False))


def _provider(name: str) -> Provider:
    module = importlib.import_module(f"mockbank.providers.{name}")
    provider: Provider = module.provider
    return provider


@pytest.fixture(params=NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_the_provider_package_has_every_file_of_the_shape(name: str) -> None:
    folder = PROVIDERS / name
    required = ("routes", "models", "records", "settings", "errors", "auth", "admin", "cli")
    missing = [f"{part}.py" for part in required if _module_or_package(folder, part) is None]
    assert (folder / "__init__.py").is_file()
    assert missing == [], f"mockbank/providers/{name} lacks {', '.join(missing)}"


def test_init_only_names_the_hosts_and_the_provider(name: str) -> None:
    tree = _parse(PROVIDERS / name / "__init__.py")
    defined = [
        f"line {node.lineno}: {type(node).__name__} {getattr(node, 'name', '')}".rstrip()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda)
    ]
    assigned = {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    assert defined == [], f"{name}/__init__.py defines {defined}: move them to their module"
    assert assigned == {"HOSTS", "provider"}, f"{name}/__init__.py assigns {sorted(assigned)}"


def test_models_and_records_never_import_flask(name: str) -> None:
    folder = PROVIDERS / name
    models = _files_of(folder, "models")
    records = _files_of(folder, "records")
    banned_in_models = ("flask", "werkzeug", "mockbank.routing", "mockbank.state.current_state")
    found = _imports_of(models, banned_in_models) + _imports_of(records, ("flask", "werkzeug"))
    assert found == [], f"{name}: models/records import the web layer: {found}"


def _records_modules(name: str) -> list[ModuleType]:
    return [
        importlib.import_module(_module_name(path))
        for path in _files_of(PROVIDERS / name, "records")
    ]


def test_records_are_frozen_dataclasses_with_to_value_and_from_value(name: str) -> None:
    modules = _records_modules(name)
    assert modules, f"{name} has no records module"
    kinds = [
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value)
        and value.__module__ == module.__name__
        and dataclasses.is_dataclass(value)
    ]
    assert kinds, f"{name}'s records define no dataclass"
    # A base the record kinds share (fields common to several) is not stored by itself.
    bases = {base for kind in kinds for base in kind.__mro__[1:]}
    wrong = []
    for kind in (kind for kind in kinds if kind not in bases):
        if not _frozen(kind):
            wrong.append(f"{kind.__name__} is not frozen")
        if not callable(getattr(kind, "to_value", None)):
            wrong.append(f"{kind.__name__} has no to_value()")
        if not isinstance(inspect.getattr_static(kind, "from_value", None), classmethod):
            wrong.append(f"{kind.__name__} has no classmethod from_value()")
    assert wrong == [], f"{name}: {wrong}"


def test_store_namespaces_are_spelled_ns_kind_in_records(name: str) -> None:
    found = {
        key: value
        for module in _records_modules(name)
        for key, value in vars(module).items()
        if key.startswith("NS_")
    }
    assert found, f"{name}'s records name no store namespace (NS_<KIND>)"
    wrong = {
        key: value
        for key, value in found.items()
        if not (isinstance(value, str) and value == f"{name}.{value.partition('.')[2]}")
        or not re.fullmatch(r"NS_[A-Z0-9_]+", key)
    }
    assert wrong == {}, f'{name}: namespaces not spelled NS_<KIND> = "{name}.<kind>": {wrong}'


def test_admin_holds_the_provider_functions(name: str) -> None:
    admin = importlib.import_module(f"mockbank.providers.{name}.admin")
    missing = [f for f in ADMIN_FUNCTIONS if not callable(getattr(admin, f, None))]
    assert missing == [], f"{name}/admin.py lacks {missing}"


def test_the_provider_is_found_in_its_modules_by_the_shape(name: str) -> None:
    provider = _provider(name)
    package = f"mockbank.providers.{name}"
    assert (provider.load, provider.read_settings, provider.cli) == (None, None, None)
    admin = importlib.import_module(f"{package}.admin")
    expected = {field: getattr(admin, field, None) for field in ADMIN_FUNCTIONS}
    expected["render_error"] = importlib.import_module(f"{package}.errors").render
    expected["blueprint"] = importlib.import_module(f"{package}.routes").bp
    emulation = provider.emulation
    unwired = [f for f, value in expected.items() if getattr(emulation, f) is not value]
    assert unwired == [], f"{name}'s Emulation not made of its modules: {unwired}"
    settings = importlib.import_module(f"{package}.settings")
    assert type(provider.settings({})) is settings.Settings
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers()
    provider.add_cli(commands)
    assert commands.choices, f"{name}'s cli.cli adds no subcommand"
    assert provider.hosts, f"{name} names no HOSTS"


def test_load_fixtures_returns_a_typed_frozen_dataclass(name: str) -> None:
    app = create_app()
    try:
        fixtures = app.extensions["mockbank"].fixtures[name]
    finally:
        app.extensions["mockbank"].close()
    assert not isinstance(fixtures, dict), f"{name}'s load_fixtures returns a dict"
    assert dataclasses.is_dataclass(fixtures), f"{name}'s fixtures: {type(fixtures).__name__}"
    kind = type(fixtures).__name__
    assert _frozen(type(fixtures)), f"{name}'s fixtures ({kind}) are not a frozen dataclass"


def test_the_client_module_imports_neither_flask_nor_the_providers(name: str) -> None:
    main = _module_or_package(CLIENTS, name)
    assert main is not None, f"mockbank/clients/{name}.py is missing"
    files = sorted(CLIENTS.rglob("*.py"))
    banned = ("flask", "werkzeug", "mockbank.providers", "mockbank.app", "mockbank.state")
    found = [hit for hit in _imports_of(files, banned) if f"/{name}" in hit]
    assert found == [], f"clients for {name} import the app side: {found}"


def _bound_by_imports(tree: ast.Module, package: str | None = None) -> dict[str, int]:
    """Module-level names bound by imports; in a package's `__init__.py` (`package`), its own
    submodules imported so they register themselves do not count."""
    bound: dict[str, int] = {}
    for node in tree.body:
        own = isinstance(node, ast.ImportFrom) and (
            (node.level == 1 and node.module is None) or (package and node.module == package)
        )
        if isinstance(node, ast.Import | ast.ImportFrom) and not own:
            for alias in node.names:
                if alias.name != "*":
                    local = alias.asname or alias.name.split(".")[0]
                    bound[local] = node.lineno
    return bound


def _names_used(tree: ast.Module) -> set[str]:
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    for node in ast.walk(tree):  # quoted annotations and docstrings name things too
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", node.value))
    return used


def _reexports(source: str, where: str) -> list[str]:
    """Names a module only imports (so reachable from two paths), or lists in `__all__`."""
    tree = ast.parse(source, where)
    package = where.removesuffix("/__init__.py").replace("/", ".")
    imported = _bound_by_imports(tree, package if where.endswith("/__init__.py") else None)
    found = []
    for node in tree.body:  # __all__ in a package, or listing a name imported from elsewhere
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign) and "__all__" in {
            getattr(t, "id", "") for t in ast.walk(node)
        }:
            listed = [
                c.value
                for c in ast.walk(node)
                if isinstance(c, ast.Constant) and isinstance(c.value, str)
            ]
            if where.endswith("__init__.py") or any(n in imported for n in listed):
                found.append(f"{where}:{node.lineno} __all__")
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            found += [
                f"{where}:{node.lineno} {alias.name} as {alias.asname}"
                for alias in node.names
                if alias.asname is not None and alias.asname == alias.name
            ]
    used = _names_used(tree)
    found += [  # a private alias (`import routes as _routes`) is a side-effect import
        f"{where}:{line} {local} (imported, never used)"
        for local, line in imported.items()
        if local not in used and local != "annotations" and not local.startswith("_")
    ]
    return found


def test_no_name_is_exported_from_two_module_paths(name: str) -> None:
    files = sorted((PROVIDERS / name).rglob("*.py")) + sorted(
        path for path in CLIENTS.rglob("*.py") if path.stem.startswith(name)
    )
    found = [
        hit
        for path in files
        for hit in _reexports(path.read_text(), str(path.relative_to(PACKAGE.parent)))
    ]
    assert found == [], f"{name}: names re-exported (import from where they live): {found}"


def test_a_package_importing_its_own_submodules_reexports_nothing() -> None:
    source = "from mockbank.providers.x.routes import accounts, banks  # noqa: F401\n"
    assert _reexports(source, "mockbank/providers/x/routes/__init__.py") == []
    assert _reexports(source, "mockbank/providers/x/other/__init__.py") != []


def test_the_reexport_check_sees_each_spelling() -> None:
    cases = {
        "from mockbank.clock import Clock\n": ["Clock (imported, never used)"],
        "from mockbank.clock import Clock as Clock\nx = Clock\n": ["Clock as Clock"],
        "from mockbank.clock import Clock\n__all__ = ['Clock']\n": ["__all__"],
        "def f() -> None: ...\n__all__ = ['f']\n": [],
        "from mockbank import routes as _routes\n": [],
        "from mockbank.clock import Clock\nx = Clock()\n": [],
    }
    for source, expected in cases.items():
        found = [hit.split(" ", 1)[1] for hit in _reexports(source, "probe.py")]
        assert found == expected, source
