"""Lambda entry point of the API function (``functions.api.handler.handler`` in ``template.yaml``).

The app and the boto3 client are created once per container, at import; Mangum runs with
``lifespan="off"`` (with ``auto`` it would run startup and shutdown on every invocation) and treats
SVG, HTML, JavaScript and problem+json as text, so API Gateway gets them without base64.
"""

from __future__ import annotations

from mangum import Mangum

from functions.api.app import create_app

TEXT_MIME_TYPES = [
    "text/",
    "application/json",
    "application/problem+json",
    "application/javascript",
    "application/vnd.oai.openapi",
    "image/svg+xml",
    "text/html",
]

app = create_app()
app.state.store.client  # noqa: B018 (create the DynamoDB client during init, not on the first request)
handler = Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)
