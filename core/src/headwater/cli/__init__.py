"""The ``headwater`` command line.

Subcommands are imported only when they run (or when ``--help`` lists
them), and their modules import nothing heavy at the top, so ``headwater
--help`` stays fast. A command may live in a plugin distribution: the table
below names its module, and a missing distribution gives a clear error.
"""

from __future__ import annotations

import importlib

import click

# command name -> ("module:attribute", distribution that ships it)
COMMANDS: dict[str, tuple[str, str]] = {
    "alerts": ("headwater_alerts.cli:alerts", "headwater-alerts"),
    "artifacts": ("headwater.cli.artifacts:artifacts", "headwater"),
    "audit": ("headwater_audit.cli:audit", "headwater-audit"),
    "auth": ("headwater_auth.cli:auth", "headwater-auth"),
    "db": ("headwater.cli.db:db", "headwater"),
    "events": ("headwater.cli.events:events", "headwater"),
    "experiments": ("headwater.cli.experiments:experiments", "headwater"),
    "models": ("headwater.cli.models:models", "headwater"),
    "plugins": ("headwater.cli.plugins:plugins", "headwater"),
    "run": ("headwater.cli.run:run", "headwater"),
    "runs": ("headwater.cli.runs:runs", "headwater"),
    "server": ("headwater.cli.server:server", "headwater-server"),
    "ui": ("headwater.cli.server:ui", "headwater-server"),
    "webhooks": ("headwater_webhooks.cli:webhooks", "headwater-webhooks"),
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in COMMANDS:
            return command
        target, distribution = COMMANDS[cmd_name]
        module_name, attribute = target.split(":")
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except ImportError as exc:
            return _unavailable(cmd_name, distribution, exc)


def _unavailable(name: str, distribution: str, exc: Exception) -> click.Command:
    message = f"`headwater {name}` needs the {distribution} distribution: pip install {distribution} ({exc})"

    @click.command(name, help=f"(unavailable: install {distribution})",
                   context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    def command() -> None:
        raise click.ClickException(message)

    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="headwater", prog_name="headwater")
def main() -> None:
    """Headwater: ML experiment tracking, wire-compatible with MLflow."""


__all__ = ["COMMANDS", "LazyGroup", "main"]
