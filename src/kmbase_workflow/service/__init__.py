"""The HTTP service (``kmbase serve``): the workflow over HTTP, for offices whose systems do
not speak Python. Needs the ``service`` extra (FastAPI and uvicorn).

`create_app` builds the ASGI application (a host may mount it in its own server);
`TokenAuthenticator` and `GatewayAuthenticator` say who is calling. docs/how-to/service.md shows how
to run it, docs/explanation/service-auth.md how authentication works, docs/reference/openapi.json is its
OpenAPI document.
"""

from ._app import (
    SERVICE_THREADS,
    application_schema,
    command_schema,
    create_app,
    iter_trigger_routes,
    reference_documents,
    store_threads,
    trigger_path,
)
from ._auth import Authenticator, GatewayAuthenticator, TokenAuthenticator, sign_identity
from ._errors import STATUSES, ServiceError, error_body, status_of
from ._routing import ERRORS, ActorParam, WorkflowParam, json_response

__all__ = [
    "ERRORS",
    "SERVICE_THREADS",
    "STATUSES",
    "ActorParam",
    "Authenticator",
    "GatewayAuthenticator",
    "ServiceError",
    "TokenAuthenticator",
    "WorkflowParam",
    "application_schema",
    "command_schema",
    "create_app",
    "error_body",
    "iter_trigger_routes",
    "json_response",
    "reference_documents",
    "sign_identity",
    "status_of",
    "store_threads",
    "trigger_path",
]
