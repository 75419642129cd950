"""One credential per registry kind Miget supports.

`registry_hostname` is required for generic, aws_ecr and azure, and optional for the others.
Each registry gets its own secret token from stack config:

    pulumi config set miget:workspaceId <workspace uuid>
    pulumi config set --secret dockerHubToken ...   (and so on for every key below)
"""

import pulumi

from pulumi_miget import ContainerRegistryCredential, Registry

config = pulumi.Config()

# (resource name, registry kind, username, hostname or None, config key of the token)
REGISTRIES = [
    ("docker-hub", Registry.DOCKER_HUB, "acme", None, "dockerHubToken"),
    ("ghcr", Registry.GITHUB, "acme-bot", None, "ghcrToken"),
    ("gitlab", Registry.GITLAB, "acme-deploy", None, "gitlabToken"),
    # ECR: the username is always AWS; the token is `aws ecr get-login-password` (12 h).
    ("ecr", Registry.AWS_ECR, "AWS", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecrToken"),
    ("acr", Registry.AZURE, "acme-pull", "acmeregistry.azurecr.io", "acrToken"),
    ("docr", Registry.DIGITALOCEAN, "acme@example.com", None, "digitaloceanToken"),
    ("quay", Registry.QUAY, "acme+robot", None, "quayToken"),
    ("harbor", Registry.GENERIC, "robot$pull", "harbor.example.com:8443", "harborToken"),
]

for resource_name, registry, username, hostname, token_key in REGISTRIES:
    credential = ContainerRegistryCredential(
        resource_name,
        name=f"acme-{resource_name}",
        registry=registry,
        username=username,
        token=config.require_secret(token_key),
        registry_hostname=hostname,
    )
    pulumi.export(f"{resource_name}_credential_id", credential.uuid)
