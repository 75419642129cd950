"""A private image on Miget: a GHCR login and an app that pulls with it.

pulumi config set miget:apiKey --secret <your Miget API key>
pulumi config set miget:workspaceId <uuid>   # in the dashboard URL; the emulator prints it
pulumi config set ghcrToken --secret <a GitHub token with read:packages>
pulumi config set projectId <project uuid>      # GET /api/v1/projects (any UUID on the emulator)
pulumi config set resourceId <resource uuid>    # GET /api/v1/resources (any UUID on the emulator)
pulumi config set databaseUrl --secret <url>    # optional: becomes the app's DATABASE_URL
pulumi up

The app takes the credential's uuid from its output (credential_id=ghcr.uuid), so Pulumi creates
the credential first, deletes it last, and updates the app if the credential is replaced.
Rotating the token updates only the credential. The app is configured, not deployed: trigger a
deployment from the dashboard or with POST /api/v1/apps/{uuid}/deploy.
"""

import pulumi

from pulumi_miget import App, ContainerRegistryCredential, Registry

config = pulumi.Config()

ghcr = ContainerRegistryCredential(
    "ghcr",
    name="ghcr-acme-pull",
    registry=Registry.GITHUB,
    username=config.get("ghcrUsername") or "acme-bot",
    token=config.require_secret("ghcrToken"),
)

env: dict[str, pulumi.Input[str]] = {"LOG_LEVEL": "info"}
database_url = config.get_secret("databaseUrl")
if database_url is not None:
    env["DATABASE_URL"] = database_url

api = App(
    "api",
    name="acme-api",  # Miget appends a random suffix: see the app_name output
    label="Acme API",
    project_id=config.get("projectId") or "3f1c2a4e-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
    resource_id=config.get("resourceId") or "7d8e9f0a-1b2c-4d3e-9f5a-6b7c8d9e0f1a",
    image_url=config.get("image") or "ghcr.io/acme/api",  # no scheme, no tag
    tag=config.get("imageTag") or "1.4.2",
    credential_id=ghcr.uuid,  # an output, not a literal: Pulumi tracks the dependency
    ram_size=256,
    cpu_size=0.5,
    env=env,  # stored as a secret
)

pulumi.export("credential_id", ghcr.uuid)
pulumi.export("app_id", api.uuid)
pulumi.export("app_name", api.app_name)
pulumi.export("public_url", api.public_url)
pulumi.export("internal_url", api.internal_url)
