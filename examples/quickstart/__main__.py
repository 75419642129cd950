"""The smallest useful program: one GitHub Container Registry login for Miget.

pulumi config set miget:apiKey --secret <your Miget API key>
pulumi config set miget:workspaceId <uuid>   # in the dashboard URL; the emulator prints it
pulumi config set ghcrToken --secret <a GitHub token with read:packages>
pulumi up
"""

import pulumi

from pulumi_miget import ContainerRegistryCredential, Registry

config = pulumi.Config()

ghcr = ContainerRegistryCredential(
    "ghcr",
    name=config.get("credentialName") or "ghcr-acme",
    registry=Registry.GITHUB,
    username=config.get("ghcrUsername") or "acme-bot",
    token=config.require_secret("ghcrToken"),
)

# Goes into an app's deployment_config.credential_id.
pulumi.export("credential_id", ghcr.uuid)
pulumi.export("credential_name", ghcr.name)
