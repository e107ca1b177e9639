"""Entry point of the server distribution, so ``headwater plugins`` lists it.

The tracking routes are the server application itself (see
:func:`headwater_server.app.create_app`), not an extension of it, so this
module implements no hook. The server *consumes* the
``headwater_server_extensions`` hook: every installed
:class:`~headwater.plugins.types.ServerExtension` is installed into the app
when it is built.
"""
