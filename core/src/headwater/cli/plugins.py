"""``headwater plugins``: what is installed, what it provides, and whether it loaded."""

from __future__ import annotations

import click

from headwater.cli._common import echo_json, print_table


@click.command()
@click.option("--all", "show_all", is_flag=True, help="Include the core's built-in plugins.")
@click.option("--hook", "hook", default=None, metavar="NAME",
              help="Only plugins implementing this hook (with or without the headwater_ prefix).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def plugins(show_all: bool, hook: str | None, as_json: bool) -> None:
    """List plugins: distribution, version, hooks, what they provide and their status."""
    from headwater.plugins.manager import get_plugin_manager

    records = [r for r in get_plugin_manager().describe() if show_all or not r.builtin]
    if hook:
        wanted = hook if hook.startswith("headwater_") else f"headwater_{hook}"
        records = [r for r in records if wanted in r.hooks]
    records.sort(key=lambda r: (r.builtin, r.name))
    if as_json:
        echo_json([r.as_dict() for r in records])
        return
    if not records:
        click.echo("No plugins installed." if not show_all else "No plugins.")
        return
    rows = []
    for r in records:
        status = r.status if not r.error else f"{r.status}: {r.error}"
        rows.append([r.name + (" (builtin)" if r.builtin else ""), r.distribution, r.version, status,
                     "\n".join(r.hooks), "\n".join(r.provides)])
    print_table(["Plugin", "Distribution", "Version", "Status", "Hooks", "Provides"], rows)
