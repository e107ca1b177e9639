"""Entry point of the ``ui`` plugin: a server extension that serves the web UI."""

from __future__ import annotations

from typing import Iterator

from headwater.plugins import hookimpl
from headwater.plugins.types import ServerExtension


def install(app) -> None:
    from headwater_ui.pages import install_pages

    install_pages(app)


@hookimpl
def headwater_server_extensions() -> Iterator[ServerExtension]:
    yield ServerExtension(name="ui", install=install)
