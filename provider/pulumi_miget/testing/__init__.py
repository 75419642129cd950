"""Offline testing of Pulumi programs that use pulumi-miget — **experimental**.

The Pulumi CLI is not needed. The model has four parts, each following the engine's Go source
(every rule cites the lines it mirrors):

- :mod:`.values`: property values as the engine holds them (:class:`Secret`, :data:`UNKNOWN`)
  and how they cross the gRPC wire;
- :mod:`.server`: the SDK's real dynamic-provider server (``python -u -m pulumi.dynamic``), the
  process the engine starts;
- :mod:`.engine`: the engine's side of the provider protocol (:class:`Engine`: Configure, Check,
  Diff, Create, Read, Update, Delete, with the engine's secret rules);
- :mod:`.steps`: a slice of the step generator (:func:`plan`, :func:`up`, :func:`refresh`, ...);
- :mod:`.monitor` and :mod:`.program`: a real program run under ``pulumi.runtime.set_mocks``
  with its dynamic resources forwarded to the server (:func:`run_program`, :class:`Stack`);
- :mod:`.stack`: :class:`OfflineStack`, ``preview``/``up``/``refresh``/``destroy`` of a program
  with results (outputs, steps, summary) and a JSON-able checkpoint: the users' entry point;
- :mod:`.plugin`: opt-in pytest fixtures ``miget_emulator`` and ``miget_stack``.

The emulator (``pulumi_miget.emulator``) stands in for Miget. This is the model the project's
own contract, program and scenario tests run on, and the home of the users' offline stack
runner. It uses SDK internals (``SETTINGS``, the root stack) that change between SDK minor
versions; the supported range is tested in CI. Its API may change in any release.
"""

from .engine import CheckFailed, Engine, ResourceState
from .monitor import DYNAMIC_PREFIX, EngineFactory, EngineMonitor, harness_to_sdk, sdk_to_harness
from .program import ProgramResult, Stack, destroy_stack, engine_factory, run_program
from .server import ProviderServer, import_root, provider_blob
from .stack import OfflineStack, RunResult, Step, StepFailed
from .steps import Plan, destroy, plan, preview_outputs, refresh, up
from .values import (
    DIFF_NONE,
    DIFF_SOME,
    DIFF_UNKNOWN,
    SECRET_SIG,
    SIG_KEY,
    UNKNOWN,
    UNKNOWN_WIRE,
    Props,
    Secret,
    UnknownOutsidePreview,
    annotate_secrets,
    apply_step_secrets,
    contains_secrets,
    contains_unknowns,
    decode,
    encode,
    from_struct,
    is_secret,
    plain,
    to_struct,
)

__all__ = [
    "DIFF_NONE",
    "DIFF_SOME",
    "DIFF_UNKNOWN",
    "DYNAMIC_PREFIX",
    "SECRET_SIG",
    "SIG_KEY",
    "UNKNOWN",
    "UNKNOWN_WIRE",
    "CheckFailed",
    "Engine",
    "EngineFactory",
    "EngineMonitor",
    "OfflineStack",
    "Plan",
    "ProgramResult",
    "Props",
    "ProviderServer",
    "ResourceState",
    "RunResult",
    "Secret",
    "Stack",
    "Step",
    "StepFailed",
    "UnknownOutsidePreview",
    "annotate_secrets",
    "apply_step_secrets",
    "contains_secrets",
    "contains_unknowns",
    "decode",
    "destroy",
    "destroy_stack",
    "encode",
    "engine_factory",
    "from_struct",
    "harness_to_sdk",
    "import_root",
    "is_secret",
    "plain",
    "plan",
    "preview_outputs",
    "provider_blob",
    "refresh",
    "run_program",
    "sdk_to_harness",
    "to_struct",
    "up",
]
