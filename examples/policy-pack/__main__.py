"""The Miget policy pack: every policy of ``pulumi_miget.policies`` at its default level.

The Pulumi CLI runs this file (``python -m pulumi.policy <engine> <this folder>``). Only this file
builds the ``PolicyPack``: its constructor serves gRPC and never returns, which is why the policies
live in an importable library and not here.

Defaults work with no configuration at all (every policy carries them in code and in its config
schema). Change them per run with ``pulumi preview --policy-pack-config config.json``, or for every
run of your own pack with ``initial_config=policies.initial_config(...)``.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from pulumi_miget import policies

if __name__ == "__main__":  # the CLI runs this file as __main__; importing it must not block
    PolicyPack(
        name="miget",
        description="Guards Miget registry credentials and the apps that use them.",
        policies=policies.all_policies(),
        # Used only by policies without a level of their own; every Miget policy sets one.
        enforcement_level=EnforcementLevel.ADVISORY,
        # No overrides: the library's defaults apply. For example
        # policies.initial_config(production_stack_pattern=r"^live$") would change one.
        initial_config=policies.initial_config(),
    )
