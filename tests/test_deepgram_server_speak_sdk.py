"""Deepgram's own Python SDK (deepgram-sdk, test-only) against the speak sockets.

The SDK's generated types describe the GA API, later than the stored
asyncapi.yml; its socket clients are what many real users of Deepgram run. A
fake server they can drive, and whose messages fill every field those types
require, is faithful where the integration cannot check itself.
"""

from __future__ import annotations

import json
from pathlib import Path
import typing
from typing import Any
import warnings

from pydantic import BaseModel
import pytest

with warnings.catch_warnings():
    # The SDK imports websockets' legacy client, deprecated since websockets 14.
    warnings.simplefilter("ignore", DeprecationWarning)
    from deepgram.speak.v1 import types as v1_types
    from deepgram.speak.v1.socket_client import V1SocketClientResponse
    from deepgram.speak.v2 import types as v2_types
    from deepgram.speak.v2.socket_client import V2SocketClientResponse

FIXTURES = Path(__file__).parent / "fixtures"
V1_CLIENT_TYPES: list[type[BaseModel]] = [
    v1_types.SpeakV1Text,
    v1_types.SpeakV1Flush,
    v1_types.SpeakV1Clear,
    v1_types.SpeakV1Close,
]
V2_CLIENT_TYPES: list[type[BaseModel]] = [
    v2_types.SpeakV2Speak,
    v2_types.SpeakV2Flush,
    v2_types.SpeakV2Close,
    v2_types.SpeakV2Interrupt,
    v2_types.SpeakV2Configure,
]


def _message_name(model: type[BaseModel], prefix: str) -> str:
    """The ``type`` a model's messages carry (the v1 loose ones: from its name)."""
    default = model.model_fields["type"].default
    return default if isinstance(default, str) else model.__name__.removeprefix(prefix)


def _server_types(union: Any) -> list[type[BaseModel]]:
    return [member for member in typing.get_args(union) if member is not bytes]


@pytest.mark.parametrize(
    ("version", "group", "models"),
    [
        ("v1", "$defs", _server_types(V1SocketClientResponse)),
        ("v1", "client", V1_CLIENT_TYPES),
        ("v2", "$defs", _server_types(V2SocketClientResponse)),
        ("v2", "client", V2_CLIENT_TYPES),
    ],
    ids=["v1-server", "v1-client", "v2-server", "v2-client"],
)
def test_schema_fixtures_match_sdk_types(
    version: str, group: str, models: list[type[BaseModel]]
) -> None:
    """Each message the SDK knows has a schema, requiring the same fields.

    Ties the hand-written GA additions of speak_v2_messages.schema.json to
    Deepgram's own types, and shows the asyncapi.yml copies are not stale.
    """
    schemas = json.loads(
        (FIXTURES / f"speak_{version}_messages.schema.json").read_text()
    )[group]
    prefix = f"SpeakV{version[1]}"
    names = {_message_name(model, prefix) for model in models}
    assert names == set(schemas)
    for model in models:
        schema = schemas[_message_name(model, prefix)]
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert required | {"type"} == set(schema["required"]), model.__name__
        assert set(model.model_fields) <= set(schema["properties"]), model.__name__


def test_error_codes_match_sdk() -> None:
    """The v2 Error codes are the SDK's (asyncapi.yml lacks DATA-0002)."""
    schema = json.loads((FIXTURES / "speak_v2_messages.schema.json").read_text())
    literal, _ = typing.get_args(v2_types.SpeakV2ErrorCode)
    codes = schema["$defs"]["Error"]["properties"]["code"]["enum"]
    assert codes == list(typing.get_args(literal))
