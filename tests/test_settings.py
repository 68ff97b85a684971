"""Settings are read from the environment once, in config.py: no module repeats a default with
config.get("KEY", default), where a second copy can drift (DETECTOR_TILES was 1 in one place, 2 in config.py)."""
from __future__ import annotations

import ast

from config import BASE_DIR, Config

APP = BASE_DIR / "app"
# Issue 16's owner (helper h16) is rewriting these files; they are listed until that work lands.
PENDING = {"attendance/camera_service.py", "attendance/live_relay.py", "background.py", "job_queue.py", "job_runner.py",
           "jobs.py", "serving.py"}


def _repeated_defaults(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, key) for every .get("UPPER_KEY", <default>) call."""
    found = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
                and len(node.args) == 2 and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str) and node.args[0].value.isupper()):
            found.append((node.lineno, node.args[0].value))
    return found


def test_no_module_repeats_a_config_default():
    repeated = []
    for path in sorted(APP.rglob("*.py")):
        module = path.relative_to(APP).as_posix()
        if module in PENDING:
            continue
        repeated += [f"app/{module}:{line} {key}" for line, key in _repeated_defaults(ast.parse(path.read_text()))]
    assert repeated == []


def test_the_scan_finds_a_repeated_default():
    tree = ast.parse('tiles = int(config.get("DETECTOR_TILES", 1))\nother = config.get("DETECTOR_TILES")\n'
                     'x = {}.get("lower", 1)\n')
    assert _repeated_defaults(tree) == [(1, "DETECTOR_TILES")]


def test_every_key_read_with_brackets_exists_in_config():
    # config["KEY"] has no default to fall back on: a key missing from Config would be a KeyError at run time.
    missing = set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                    and isinstance(node.slice.value, str) and node.slice.value.isupper()
                    and "config" in ast.unparse(node.value).lower() and not hasattr(Config, node.slice.value)
                    and not isinstance(node.ctx, ast.Store)):  # a key the app sets itself (engine options)
                missing.add(node.slice.value)
    assert missing == set()
