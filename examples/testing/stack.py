"""The stack under test: a GHCR login and an app that pulls a private image with it.

``program()`` is the body of a Pulumi program, written as a ``__main__.py`` would be: it reads
``pulumi.Config()`` and exports outputs. In your own project, keep it in a module like this one
and make ``__main__.py`` call it (``from stack import program; program()``), so ``pulumi up`` and
the offline tests in ``test_stack.py`` run the same code.

Config (project namespace):

- ``ghcrToken`` (secret, required): the registry token;
- ``projectId``, ``resourceId``: the app's Miget project and compute resource (any UUID on the
  emulator);
- ``image``, ``imageTag``: the image to run (default ``ghcr.io/acme/api``, ``1.4.2``).
"""

from __future__ import annotations

import pulumi

from pulumi_miget import App, ContainerRegistryCredential, Registry

DEFAULT_PROJECT_ID = "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
DEFAULT_RESOURCE_ID = "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a"


def program() -> None:
    config = pulumi.Config()

    ghcr = ContainerRegistryCredential(
        "ghcr",
        name="ghcr-acme-pull",
        registry=Registry.GITHUB,
        username="acme-bot",
        token=config.require_secret("ghcrToken"),
    )

    api = App(
        "api",
        name="acme-api",  # a seed: Miget appends a random suffix (the app_name output)
        project_id=config.get("projectId") or DEFAULT_PROJECT_ID,
        resource_id=config.get("resourceId") or DEFAULT_RESOURCE_ID,
        image_url=config.get("image") or "ghcr.io/acme/api",  # no scheme, no tag
        tag=config.get("imageTag") or "1.4.2",
        credential_id=ghcr.uuid,  # the output: Pulumi orders the two resources by it
        ram_size=256,
        cpu_size=0.5,
    )

    pulumi.export("credential_id", ghcr.uuid)
    pulumi.export("registry_token", ghcr.token)  # a secret output
    pulumi.export("app_id", api.uuid)
    pulumi.export("app_name", api.app_name)
    pulumi.export("public_url", api.public_url)
