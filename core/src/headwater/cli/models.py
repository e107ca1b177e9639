"""``headwater models``: serve and predict with models (the options of ``mlflow models``).

``serve`` and ``predict`` accept ``mlflow models serve|predict``'s options, so
tools that shell out to MLflow can run Headwater instead. Only the local
environment is supported (``--env-manager local``, or ``--no-conda``).
The registry commands join this group as ``registered``, ``versions`` and
``alias``.
"""

from __future__ import annotations

import sys

import click

from headwater.exceptions import HeadwaterError


@click.group("models")
def models() -> None:
    """Serve models, predict with them, and manage the model registry."""


def _env_manager(env_manager: str | None, no_conda: bool) -> str:
    return "local" if no_conda or env_manager is None else env_manager


@models.command("serve", context_settings={"help_option_names": ["--help"]})
@click.option("--model-uri", "-m", required=True, metavar="URI",
              help="The model: a local path, runs:/, models:/ or a storage URI.")
@click.option("--port", "-p", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--timeout", "-t", default=60, show_default=True, type=float,
              help="Seconds a request may run before it is answered with 504.")
@click.option("--workers", "-w", default=1, show_default=True, type=click.IntRange(min=1),
              help="Worker processes, each with its own copy of the model.")
@click.option("--env-manager", default=None, type=click.Choice(["local", "virtualenv", "uv", "conda"]),
              help="Environment to serve in; only 'local' (this Python) is supported.")
@click.option("--no-conda", is_flag=True, help="Same as --env-manager local.")
@click.option("--install-mlflow", is_flag=True, help="Accepted for compatibility; has no effect with local.")
@click.option("--max-request-bytes", default=None, type=click.IntRange(min=1), metavar="N",
              help="Refuse request bodies larger than this (413). Default: 100 MiB.")
def serve(model_uri: str, port: int, host: str, timeout: float, workers: int, env_manager: str | None,
          no_conda: bool, install_mlflow: bool, max_request_bytes: int | None) -> None:
    """Serve a model: /invocations, /ping, /health, /version (MLflow's scoring protocol)."""
    from headwater.models.serving.app import DEFAULT_MAX_REQUEST_BYTES
    from headwater.models.serving.server import serve as run_server

    try:
        code = run_server(model_uri, host=host, port=port, workers=workers, timeout=timeout,
                          env_manager=_env_manager(env_manager, no_conda),
                          max_request_bytes=max_request_bytes or DEFAULT_MAX_REQUEST_BYTES)
    except HeadwaterError as err:
        raise click.ClickException(err.message) from None
    if code:
        sys.exit(code)


@models.command("predict", context_settings={"help_option_names": ["--help"]})
@click.option("--model-uri", "-m", required=True, metavar="URI", help="The model to predict with.")
@click.option("--input-path", "-i", default=None, type=click.Path(dir_okay=False),
              help="Input file (default: standard input).")
@click.option("--output-path", "-o", default=None, type=click.Path(dir_okay=False),
              help="Where to write the predictions (default: standard output).")
@click.option("--content-type", "-t", default="json", show_default=True, type=click.Choice(["json", "csv"]),
              help="Input format: a JSON scoring request (dataframe_split, inputs, ...) or CSV with a header.")
@click.option("--env-manager", default=None, type=click.Choice(["local", "virtualenv", "uv", "conda"]),
              help="Environment to predict in; only 'local' (this Python) is supported.")
@click.option("--no-conda", is_flag=True, help="Same as --env-manager local.")
@click.option("--install-mlflow", is_flag=True, help="Accepted for compatibility; has no effect with local.")
def predict(model_uri: str, input_path: str | None, output_path: str | None, content_type: str,
            env_manager: str | None, no_conda: bool, install_mlflow: bool) -> None:
    """Predict on a file with a model; writes {"predictions": ...} as JSON."""
    from headwater.models.api import load_model
    from headwater.models.serving import parsing
    from headwater.models.serving.server import check_env_manager

    try:
        check_env_manager(_env_manager(env_manager, no_conda))
        if input_path:
            with open(input_path, "rb") as src:
                body = src.read()
        else:
            body = sys.stdin.buffer.read()
        model = load_model(model_uri)
        media = parsing.CONTENT_TYPE_JSON if content_type == "json" else parsing.CONTENT_TYPE_CSV
        parsed = parsing.parse_request(body, media, model)
        predictions = model.predict(parsed.data, parsed.params)
    except parsing.RequestError as err:
        raise click.ClickException(err.message) from None
    except HeadwaterError as err:
        raise click.ClickException(err.message) from None
    result = parsing.jsonable_predictions(predictions)
    out = parsing.dumps(result if parsed.unwrapped else {"predictions": result})
    if output_path:
        with open(output_path, "wb") as dst:
            dst.write(out)
    else:
        sys.stdout.buffer.write(out + b"\n")


# The registry's subcommands (headwater.cli.registry imports nothing heavy at the top).
from headwater.cli.registry import alias, registered, versions  # noqa: E402

models.add_command(registered)
models.add_command(versions)
models.add_command(alias)
