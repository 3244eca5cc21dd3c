"""The import rule (STYLE §2): media/ imports no Parley package; agents/ only media/; sip/ never gateway/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"media", "agents", "sip", "gateway"}
ALLOWED = {
    "media": {"media"},
    "agents": {"agents", "media"},
    "sip": {"sip", "agents", "media"},
    "gateway": PACKAGES,
}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & PACKAGES


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_package_imports_only_what_it_may(package):
    breaches = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in _imports(path) - ALLOWED[package]:
            breaches.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not breaches, "\n".join(breaches)


def test_rule_catches_a_breach(tmp_path):
    bad = tmp_path / "x.py"
    bad.write_text("from gateway.config import Config\nimport agents.conversation\n")
    assert _imports(bad) == {"gateway", "agents"}
