"""The shape of the code, checked: layers point one way, one registry of steps.

Models never import views; the modules under ``models/`` form no import
circle; no view spells out a step's number by hand.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def modules(package: str) -> dict[str, Path]:
    """Every module of ``package`` by its dotted name."""
    found = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports_of(name: str, path: Path) -> set[str]:
    """The modules ``name`` imports, absolute and relative imports resolved."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            # « from . import ordering » imports a module, not a name.
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def test_no_model_imports_a_view():
    for name, path in modules("models").items():
        into_views = sorted(m for m in imports_of(name, path) if m.split(".")[0] == "views")
        assert not into_views, f"{name} imports {into_views}"


def test_the_models_form_no_import_circle():
    known = modules("models")
    graph = {
        name: {m for m in imports_of(name, path) if m in known and m != name}
        for name, path in known.items()
    }
    # A package's __init__ gathers its modules for others; it is not part of the layering.
    for name in graph:
        graph[name] -= {"models"}
    circles = []
    done: set[str] = set()

    def visit(node, trail):
        if node in trail:
            circles.append([*trail[trail.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph[node]):
            visit(target, [*trail, node])
        done.add(node)

    for name in sorted(graph):
        if name != "models":
            visit(name, [])
    assert not circles, "import circles: " + "; ".join(" -> ".join(c) for c in circles[:3])


def test_the_checker_does_see_a_circle(tmp_path):
    """The circle test above would fail on a real circle (it does not pass by accident)."""
    first = tmp_path / "first.py"
    first.write_text("from .second import x\n")
    assert imports_of("models.first", first) == {"models.second", "models.second.x"}


def test_no_view_numbers_a_step_by_hand():
    pattern = re.compile(r"sur\s+\d")
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "views").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_the_payment_protocol_is_one_module_the_state_machine_imports():
    payments = imports_of("models.payments", ROOT / "models" / "payments.py")
    assert "models.sips" in payments
    protocol = imports_of("models.sips", ROOT / "models" / "sips.py")
    # The protocol knows nothing of requests, payments or the database.
    assert not {
        m
        for m in protocol
        if m.startswith("models.") and not m.startswith("models.shared.security")
    }
    assert "peewee" not in protocol
