"""The moderator's live page (``chatbot live``): the chat as it runs, and its controls.

Module map (the way in is :func:`serve_live`)::

    server    serve_live: uvicorn in a thread on 127.0.0.1, the URL with its token
    app       the Starlette routes: page, server-sent events, buttons, assets
    security  the access token, session cookie, CSRF tokens, Host and Origin checks
    actions   the buttons: the controls' and hide's own library functions
    snapshot  what the page shows, read from the store (read only)

``templates/live.html`` renders the page (autoescaped); ``static/live.js``
applies each snapshot with textContent only; ``static/live.css`` lays it out
down to 390 px.
"""

from chatbot.live.server import LiveServer, serve_live

__all__ = ["LiveServer", "serve_live"]
