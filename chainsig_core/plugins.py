"""Plugin loading and the chain registry.

Plugins are found through the ``chainsig`` entry-point group and loaded lazily, once per
process. ``CHAINSIG_LOAD_PLUGINS=a,b`` loads only the named plugins (an empty value loads none);
``CHAINSIG_BLOCK_PLUGINS=a,b`` skips the named ones. A plugin that fails to import is reported
by name (:func:`plugin_errors`, and a warning on the CLI) instead of breaking the others, and so
is a name in either variable that is not installed. The plugins a variable kept from loading
(:func:`filtered_plugins`) are named where their absence shows: an unknown chain, an empty
``chainsig chains``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from . import hookspecs
from .chain import Chain
from .errors import InvalidInputError, PluginError, UnknownNameError

ENTRY_POINT_GROUP = "chainsig"


@dataclass(frozen=True)
class PluginInfo:
    """A loaded (or failed) plugin."""

    name: str
    module: str
    distribution: str | None
    version: str | None
    error: str | None = None


_lock = threading.RLock()
_pm: pluggy.PluginManager | None = None
_infos: list[PluginInfo] = []
_chains: dict[str, Chain] | None = None
_chain_errors: list[str] = []
_generation = 0


def _env_list(name: str) -> set[str] | None:
    value = os.environ.get(name)
    if value is None:
        return None
    return {part.strip() for part in value.split(",") if part.strip()}


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager, loading the entry points on first use."""
    global _pm
    with _lock:
        if _pm is None:
            pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
            pm.add_hookspecs(hookspecs)
            _load_entry_points(pm)
            _pm = pm
        return _pm


LOAD_ENV = "CHAINSIG_LOAD_PLUGINS"
BLOCK_ENV = "CHAINSIG_BLOCK_PLUGINS"

_filtered: dict[str, str] = {}  # plugin name → the variable that kept it from loading
_filter_warnings: list[str] = []


def installed_plugin_names() -> list[str]:
    """The names of every installed plugin (``chainsig`` entry points), loaded or not, sorted.

    Reads package metadata only: no plugin is imported.
    """
    return sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})


def no_chains_message() -> str:
    """What ``chainsig chains`` prints when no chain is loaded: the plugins the environment
    filtered out, or the install hint when none are installed."""
    note = filter_note()
    if note:
        return f"no chains loaded: {note}"
    return "no chains installed (pip install chainsig-evm chainsig-bitcoin chainsig-solana)"


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    only = _env_list(LOAD_ENV)
    blocked = _env_list(BLOCK_ENV) or set()
    found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name)
    installed = sorted({ep.name for ep in found})
    for variable, names in ((LOAD_ENV, only or set()), (BLOCK_ENV, blocked)):
        missing = sorted(names - set(installed))
        if missing:
            _filter_warnings.append(
                f"{variable} names {', '.join(repr(n) for n in missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed "
                f"(installed plugins: {', '.join(installed) or 'none'})"
            )
    for ep in found:
        if only is not None and ep.name not in only:
            _filtered[ep.name] = LOAD_ENV
            continue
        if ep.name in blocked:
            _filtered[ep.name] = BLOCK_ENV
            continue
        if pm.get_plugin(ep.name) is not None:
            continue
        dist = getattr(ep, "dist", None)
        dist_name = dist.name if dist is not None else None
        version = dist.version if dist is not None else None
        try:
            module = ep.load()
            pm.register(module, name=ep.name)
        except Exception as exc:  # a broken plugin must not break the others
            _infos.append(
                PluginInfo(ep.name, ep.value, dist_name, version, f"{type(exc).__name__}: {exc}")
            )
            continue
        _infos.append(PluginInfo(ep.name, ep.value, dist_name, version))


def filtered_plugins() -> dict[str, str]:
    """Installed plugins that were not loaded because of ``CHAINSIG_LOAD_PLUGINS`` or
    ``CHAINSIG_BLOCK_PLUGINS``: plugin name → the variable's name."""
    get_plugin_manager()
    return dict(_filtered)


def filter_note() -> str | None:
    """One line saying which installed plugins the environment kept from loading, ``None``
    when it kept none (``chainsig chains`` prints it instead of "no chains installed")."""
    by_variable: dict[str, list[str]] = {}
    for name, variable in sorted(filtered_plugins().items()):
        by_variable.setdefault(variable, []).append(name)
    if not by_variable:
        return None
    parts = [
        f"{variable}={os.environ.get(variable, '')!r} keeps plugin{'s' if len(names) > 1 else ''} "
        f"{', '.join(names)} from loading"
        for variable, names in sorted(by_variable.items())
    ]
    return "; ".join(parts)


def plugins() -> list[PluginInfo]:
    """Every plugin found, loaded or not (see :attr:`PluginInfo.error`)."""
    get_plugin_manager()
    extra = [
        PluginInfo(name, getattr(plugin, "__name__", repr(plugin)), None, None)
        for name, plugin in get_plugin_manager().list_name_plugin()
        if name not in {info.name for info in _infos}
    ]
    return [*_infos, *extra]


def plugin_errors() -> list[str]:
    """One message per plugin that failed to load or registered something invalid, and per
    name in ``CHAINSIG_LOAD_PLUGINS``/``CHAINSIG_BLOCK_PLUGINS`` that is not installed."""
    get_chains()
    return [
        *_filter_warnings,
        *(f"plugin {i.name!r} failed to load: {i.error}" for i in _infos if i.error),
        *_chain_errors,
    ]


def get_chains() -> dict[str, Chain]:
    """Every registered chain by name (plugins are loaded on first call)."""
    global _chains
    with _lock:
        if _chains is None:
            _chains = _collect_chains()
        return dict(_chains)


def get_chain(name: str) -> Chain:
    """The chain registered as ``name``.

    Raises
    ------
    UnknownNameError
        Listing the chains that are installed.
    """
    chains = _chains if _chains is not None else get_chains()
    try:
        return chains[name]
    except KeyError:
        known = ", ".join(sorted(chains))
        note = filter_note()
        if note:  # the chain may belong to a plugin the environment kept from loading
            raise UnknownNameError(
                f"unknown chain {name!r} (loaded chains: {known or 'none'}); {note}, which may "
                f"provide {name!r}"
            ) from None
        known = known or "none — install a chain plugin such as chainsig-evm"
        raise UnknownNameError(f"unknown chain {name!r} (installed: {known})") from None


def chain_object(chain: str | Chain) -> Chain:
    """``chain`` itself when it is a :class:`Chain`, else the chain registered under that name
    (the library API takes either).

    Raises
    ------
    UnknownNameError
        For a name no loaded plugin registered.
    InvalidInputError
        For anything that is neither a name nor a Chain.
    """
    if isinstance(chain, Chain):
        return chain
    if isinstance(chain, str):
        return get_chain(chain)
    raise InvalidInputError(f"chain must be a chain name or a Chain, not {type(chain).__name__}")


def _collect_chains() -> dict[str, Chain]:
    from .config import load_config
    from .errors import ConfigError

    pm = get_plugin_manager()
    chains: dict[str, Chain] = {}
    owners: dict[str, str] = {}
    _chain_errors.clear()
    try:
        config: Mapping[str, Any] = load_config(check_declared_keys=False).raw
    except ConfigError:
        # Reported once, as the error of the command that reads the config (load_config);
        # a warning here too would print the same line twice. The plugins still register
        # their built-in chains.
        config = {}
    except Exception as exc:  # a bug in config reading must not stop every chain loading
        _chain_errors.append(f"config not used for chain registration: {type(exc).__name__}: {exc}")
        config = {}
    for impl in pm.hook.register_chains.get_hookimpls():
        plugin_name = pm.get_name(impl.plugin) or repr(impl.plugin)

        def register(chain: Chain, _plugin: str = plugin_name) -> None:
            if not isinstance(chain, Chain):
                raise PluginError(f"plugin {_plugin!r} registered {chain!r}, which is not a Chain")
            if chain.name in chains:
                raise PluginError(
                    f"chain {chain.name!r} registered by both {owners[chain.name]!r} and {_plugin!r}"
                )
            chains[chain.name] = chain
            owners[chain.name] = _plugin

        kwargs = {"register": register, "config": config}
        try:
            impl.function(**{arg: kwargs[arg] for arg in impl.argnames})
        except Exception as exc:
            _chain_errors.append(f"plugin {plugin_name!r} failed to register chains: {exc}")
    return chains


def generation() -> int:
    """A number that changes whenever the set of plugins may have changed (reset, temporary
    registration); the CLI rebuilds its commands when it does."""
    return _generation


def reset() -> None:
    """Forget loaded plugins and chains (tests; the next call loads them again)."""
    global _pm, _chains, _generation
    with _lock:
        _generation += 1
        _pm = None
        _chains = None
        _infos.clear()
        _chain_errors.clear()
        _filtered.clear()
        _filter_warnings.clear()


@contextmanager
def registered_plugin(plugin: ModuleType | object, name: str | None = None) -> Iterator[None]:
    """Register ``plugin`` for the duration of a ``with`` block, then unregister it.

    Chains are collected again on entry and on exit, so the plugin's chains appear and vanish.
    """
    global _chains, _generation
    pm = get_plugin_manager()
    pm.register(plugin, name=name)
    with _lock:
        _chains = None
        _generation += 1
    try:
        yield
    finally:
        pm.unregister(plugin)
        with _lock:
            _chains = None
            _generation += 1
