"""``chainsig plugins new NAME``: write a working skeleton chain plugin with its tests.

The skeleton is a complete, small chain (see ``templates/chain.py.tmpl``) whose tests — the
conformance suite and a JSON-RPC test against chainsig's recording HTTP server — pass as
generated, so an author starts from green and adapts one part at a time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from string import Template

from ..errors import InvalidInputError

_NAME = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9])){1,30}")

#: template file → path in the generated project (``{package}`` is substituted).
LAYOUT = {
    "pyproject.toml.tmpl": "pyproject.toml",
    "README.md.tmpl": "README.md",
    "__init__.py.tmpl": "{package}/__init__.py",
    "chain.py.tmpl": "{package}/chain.py",
    "conftest.py.tmpl": "tests/conftest.py",
    "test_conformance.py.tmpl": "tests/test_conformance.py",
    "test_node.py.tmpl": "tests/test_node.py",
}


@dataclass(frozen=True)
class Skeleton:
    """What :func:`create_plugin` wrote."""

    name: str
    distribution: str
    package: str
    directory: Path
    files: tuple[Path, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "package": self.package,
            "directory": str(self.directory),
            "files": [str(f.relative_to(self.directory)) for f in self.files],
        }


def validate_plugin_name(name: str) -> str:
    """A chain/plugin name: 2–31 lowercase letters, digits and single ``-``, starting with a
    letter (it becomes the ``--chain`` name and, with ``-`` → ``_``, a Python package).

    Raises
    ------
    InvalidInputError
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidInputError(
            f"plugin name {name!r} must be 2–31 lowercase letters, digits and single '-', "
            "starting with a letter (e.g. 'mychain')"
        )
    return name


def create_plugin(name: str, directory: Path | str | None = None) -> Skeleton:
    """Write the skeleton plugin ``chainsig-NAME`` into ``directory``.

    Parameters
    ----------
    name:
        The chain and entry-point name (``mychain``).
    directory:
        Where to create the project; default ``./chainsig-NAME``. It must not exist or be empty.

    Returns
    -------
    Skeleton
        The files written.

    Raises
    ------
    InvalidInputError
        For a bad name or a non-empty target directory (nothing is overwritten).
    """
    from .. import __version__

    validate_plugin_name(name)
    dist = f"chainsig-{name}"
    package = "chainsig_" + name.replace("-", "_")
    target = Path(directory) if directory is not None else Path.cwd() / dist
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInputError(f"{target} already exists and is not an empty directory")
    symbol = name.replace("-", "").upper()[:6]
    values = {
        "name": name,
        "name_dest": name.replace("-", "_"),
        "dist": dist,
        "package": package,
        "class_name": "".join(part.capitalize() for part in name.split("-")) + "Chain",
        "symbol": symbol,
        "symbol_lower": symbol.lower(),
        "core_version": __version__,
    }
    templates = files(__package__).joinpath("templates")
    written: list[Path] = []
    try:
        for template, relative in LAYOUT.items():
            text = Template(templates.joinpath(template).read_text("utf-8")).substitute(values)
            path = target / relative.format(package=package)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            written.append(path)
    except OSError as exc:
        raise InvalidInputError(f"cannot write the plugin into {target}: {exc.strerror}") from None
    return Skeleton(name, dist, package, target, tuple(written))
