"""Repository rules: PEP 420 namespace, core imports no application package, no unsafe loads."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPLICATIONS = {"restoration", "speech", "molecules", "medical", "pde", "rl"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_no_condiff_init_anywhere() -> None:
    assert not list(ROOT.glob("packages/*/src/condiff/__init__.py"))


def test_core_imports_no_application_package() -> None:
    offenders = [
        f"{p.relative_to(ROOT)} imports {m}"
        for p in (ROOT / "packages/core/src").rglob("*.py")
        for m in _imports(p)
        if m.startswith("condiff.") and m.split(".")[1] in APPLICATIONS
    ]
    assert offenders == []


def test_applications_do_not_import_each_other() -> None:
    offenders = []
    for pkg in (ROOT / "packages").iterdir():
        for p in pkg.glob("src/condiff/*/**/*.py"):
            own = p.relative_to(pkg / "src").parts[1]
            offenders += [
                f"{p} imports {m}"
                for m in _imports(p)
                if m.startswith("condiff.") and m.split(".")[1] not in {"core", own}
            ]
    assert offenders == []


def test_every_torch_load_is_weights_only() -> None:
    offenders = []
    for p in [*ROOT.glob("packages/*/src/**/*.py"), *ROOT.glob("benchmarks/**/*.py")]:
        for node in ast.walk(ast.parse(p.read_text())):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "load"
                and getattr(node.func.value, "id", None) == "torch"
            ):
                kw = {k.arg: k.value for k in node.keywords}
                if not (isinstance(kw.get("weights_only"), ast.Constant) and kw["weights_only"].value is True):
                    offenders.append(f"{p}:{node.lineno}")
    assert offenders == []
