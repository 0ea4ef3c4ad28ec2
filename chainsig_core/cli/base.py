"""The ``chainsig`` click group: error handling and chain-option wiring."""

from __future__ import annotations

import errno
import os
import traceback
from typing import Any

import click

from ..chain import ChainOption
from ..errors import ChainsigError
from .output import error_line, warn

INTERNAL_ERROR_EXIT = 70
IO_ERROR_EXIT = 74
"""sysexits' EX_IOERR: the disk is full or read-only, or a file may not be written."""
_ENVIRONMENT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO})


def _internal_error(ctx: click.Context, exc: BaseException) -> None:
    if os.environ.get("CHAINSIG_DEBUG"):
        traceback.print_exception(exc)
    error_line(f"internal error ({type(exc).__name__}: {exc}); set CHAINSIG_DEBUG=1 for details and please report it")
    ctx.exit(INTERNAL_ERROR_EXIT)


class ChainsigGroup(click.Group):
    """A click group whose commands report errors as one line, never as a traceback.

    ``ChainsigError`` → its message and its ``exit_code``; any other exception → a one-line
    internal-error report (``CHAINSIG_DEBUG=1`` prints the traceback for bug reports).
    """

    _prepared_generation: int | None = None
    _core_commands: dict[str, click.Command] | None = None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # click quotes user input verbatim: keep its message on one line (no control chars)
            exc.message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in exc.message)
            raise
        except (click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ChainsigError as exc:
            error_line(str(exc))
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            error_line("interrupted")
            ctx.exit(130)
        except BrokenPipeError:
            ctx.exit(1)
        except OSError as exc:
            if exc.errno in _ENVIRONMENT_ERRNOS:
                # the machine's state (disk full, read-only, no permission), not a bug to report
                where = f" ({exc.filename})" if exc.filename else ""
                error_line(f"{exc.strerror or 'input/output error'}{where}")
                ctx.exit(IO_ERROR_EXIT)
            _internal_error(ctx, exc)
        except Exception as exc:  # the CLI never shows a traceback unless asked
            _internal_error(ctx, exc)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        self.prepare()
        return super().main(*args, **kwargs)

    def prepare(self) -> None:
        """Load plugins: attach chain options, run ``register_commands``, report errors.

        Done once per plugin set: core's commands are copied before chain options are added, so
        a process whose plugins change (tests) never sees another set's options or commands.
        """
        from ..plugins import generation, get_chains, get_plugin_manager, plugin_errors

        pm = get_plugin_manager()
        if self._prepared_generation == generation():
            return
        if self._core_commands is None:
            self._core_commands = dict(self.commands)
        self.commands = {name: _copy_command(cmd) for name, cmd in self._core_commands.items()}
        self._prepared_generation = generation()
        for impl in pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:
                warn(f"plugin {pm.get_name(impl.plugin)!r} failed to add commands: {exc}")
        attach_chain_options(
            self, [(chain.name, opt) for chain in get_chains().values() for opt in _options(chain)]
        )
        for message in plugin_errors():
            warn(message)


def _copy_command(command: click.Command) -> click.Command:
    import copy

    fresh = copy.copy(command)
    fresh.params = list(command.params)
    if isinstance(fresh, click.Group):
        fresh.commands = dict(fresh.commands)
    return fresh


def _options(chain: Any) -> list[ChainOption]:
    try:
        return list(chain.cli_options())
    except Exception as exc:
        warn(f"chain {chain.name!r}: cli_options() failed: {exc}")
        return []


def attach_chain_options(group: click.Group, options: list[tuple[str, ChainOption]]) -> None:
    """Add each chain's options to the core commands it names.

    ``options`` pairs a chain name with one of its options. When several chains declare the
    same flag for a command, one option is added whose help names each chain's meaning; if
    their value types differ the value reaches the chains as text (each parses it), and if one
    is a switch and another takes a value, the later one is dropped with a warning.
    """
    merged: dict[tuple[str, str], list[tuple[str, ChainOption]]] = {}
    for chain_name, option in options:
        for command_name in sorted(option.commands):
            merged.setdefault((command_name, option.flag), []).append((chain_name, option))
    for (command_name, flag), entries in merged.items():
        command = group.commands.get(command_name)
        if command is None or any(flag in p.opts for p in command.params):
            continue
        first = entries[0][1]
        compatible = [(c, o) for c, o in entries if o.is_flag == first.is_flag and o.multiple == first.multiple]
        for chain_name, option in entries:
            if (chain_name, option) not in compatible:
                warn(f"chain {chain_name!r}: option {flag} conflicts with chain {entries[0][0]!r}'s; ignored")
        types = {repr(o.type) for _, o in compatible}
        helps: dict[str, list[str]] = {}
        for chain_name, option in compatible:
            helps.setdefault(option.help, []).append(chain_name)
        if len(helps) == 1:
            help_text = first.help
        else:
            help_text = " | ".join(f"[{', '.join(names)}] {text}" for text, names in helps.items())
        value_type = None if first.is_flag else (first.type if len(types) == 1 else click.STRING)
        command.params.append(
            click.Option(
                [flag], help=help_text, type=value_type, is_flag=first.is_flag,
                multiple=first.multiple, default=False if first.is_flag else None,
            )
        )


def given_options(options: dict[str, Any]) -> dict[str, Any]:
    """The chain options actually given on the command line (a command collects them with
    ``**options``; unset ones are ``None``, ``False`` or ``()``)."""
    return {k: v for k, v in options.items() if v is not None and v is not False and v != ()}
