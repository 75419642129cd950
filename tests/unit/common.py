"""What the unit tests of the two providers share: a provider configured for the emulator."""

from __future__ import annotations

from typing import TypeVar

from pulumi.dynamic import Config, ConfigureRequest

from pulumi_miget.emulator import EmulatorServer
from pulumi_miget.provider import MigetProvider
from tests.samples import API_KEY, DEFAULT_WORKSPACE_ID

P = TypeVar("P", bound=MigetProvider)


def configured(provider: P, emulator: EmulatorServer, **config: str) -> P:
    """``provider`` after ``configure``, as the SDK server calls it: the emulator's URL, API_KEY
    and two retries, unless ``config`` (namespaced keys, e.g. ``miget:workspaceId``) says
    otherwise."""
    values = {"miget:apiKey": API_KEY, "miget:apiUrl": emulator.api_url, "miget:maxRetries": "2"}
    values["miget:workspaceId"] = DEFAULT_WORKSPACE_ID
    values.update(config)
    provider.configure(ConfigureRequest(Config(values, "proj")))
    return provider
