"""Install a plugin package from tests/ the way pip installs a wheel, without building one.

pip puts the package and a ``<name>-<version>.dist-info`` folder (``METADATA``,
``entry_points.txt``) into site-packages; ``importlib.metadata`` finds the entry points there.
``install`` makes the same two things in a fresh folder, with the entry points read from the
package's own ``pyproject.toml``, and returns the ``PYTHONPATH`` a server subprocess needs, so
each test chooses exactly which plugins its server sees.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def install(project: str, site: Path) -> str:
    """Install ``tests/<project>`` into ``site``; returns a PYTHONPATH including it."""
    root = TESTS / project
    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    site.mkdir(parents=True, exist_ok=True)
    for package in meta.get("packages", []) or _packages(root):
        (site / package).symlink_to(root / package, target_is_directory=True)
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    lines = []
    for group, entries in meta.get("entry-points", {}).items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
        lines.append("")
    (dist / "entry_points.txt").write_text("\n".join(lines))
    return os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH", "")]))


def _packages(root: Path) -> list[str]:
    return [p.name for p in root.iterdir() if (p / "__init__.py").is_file()]
