"""docs/hooks.md documents every hookspec with its exact signature and version."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from types import FunctionType

import pytest

from chainsig_core import hookspecs

DOC = Path(__file__).parents[2] / "docs" / "hooks.md"


def hookspecs_by_name() -> dict[str, FunctionType]:
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {name: fn for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, marker)}


def render(name: str, fn: FunctionType) -> str:
    """``name(arg: Type, …) -> Ret`` from the spec's (string) annotations."""
    sig = inspect.signature(fn)

    def text(annotation: object) -> str:
        return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)

    args = ", ".join(f"{p.name}: {text(p.annotation)}" for p in sig.parameters.values())
    return f"{name}({args}) -> {text(sig.return_annotation)}"


def sections(doc: str) -> dict[str, str]:
    parts = re.split(r"^## `([a-z_]+)`\s*$", doc, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def documented_signature(name: str, section: str) -> str | None:
    match = re.search(rf"^```python\n({name}\(.*\) -> .*)\n```", section, flags=re.M)
    return match.group(1) if match else None


def since(text: str) -> str | None:
    match = re.search(r"Since \**(\d+\.\d+\.\d+)", text)
    return match.group(1) if match else None


def test_there_are_hookspecs() -> None:
    assert {"register_chains", "register_commands"} <= set(hookspecs_by_name())


@pytest.mark.parametrize("name", sorted(hookspecs_by_name()))
def test_hook_documented_with_its_signature(name: str) -> None:
    fn = hookspecs_by_name()[name]
    documented = sections(DOC.read_text("utf-8"))
    assert name in documented, f"docs/hooks.md has no '## `{name}`' section"
    section = documented[name]
    assert documented_signature(name, section) == render(name, fn), "signature differs from hookspecs.py"
    for parameter in inspect.signature(fn).parameters:
        assert re.search(rf"^\| `{parameter}` \|", section, flags=re.M), f"argument {parameter!r} not described"
    assert since(section) is not None, "no 'Since X.Y.Z' in the section"
    assert since(section) == since(fn.__doc__ or ""), "version differs from the hookspec's docstring"


def test_no_documented_hook_is_missing_from_hookspecs() -> None:
    assert set(sections(DOC.read_text("utf-8"))) <= set(hookspecs_by_name())


def test_checker_catches_a_wrong_signature() -> None:
    """The checks above can fail: a doc written for an older signature is caught."""

    def register_chains(register: Callable[[Chain], None]) -> None:  # noqa: F821 - a string annotation
        """Since 0.1.0."""

    old = render("register_chains", register_chains)  # type: ignore[arg-type]
    current = documented_signature("register_chains", sections(DOC.read_text("utf-8"))["register_chains"])
    assert old == "register_chains(register: Callable[[Chain], None]) -> None"
    assert current is not None and current != old
