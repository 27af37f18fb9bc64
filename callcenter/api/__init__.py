"""The HTTP API under ``/api/v1``: thin endpoints over ``callcenter.services``.

Each operation is one row of a route table (``routing.Operation``): method, path, scope,
the pydantic models of its query, body and answer, and a handler that calls a service.
The Falcon app and the OpenAPI 3.1 document are both built from that table.
"""
