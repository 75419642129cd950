"""Field rules: one table per resource, shared by the providers' ``check``, the emulator and the
CrossGuard policies, so the three can never disagree.

- :mod:`.common`: the violation type, the UUID check, the one control-character policy;
- :mod:`.credential`: ContainerRegistryCredential (and the :class:`Registry` kinds);
- :mod:`.app`: App.

Every rule helper returns :class:`Violation` objects (property, reason, API status, API text).
"""

from .app import (
    BUILDERS,
    DEFAULT_BUILDER,
    DEFAULT_TAG,
    SIZES,
    check_app,
)
from .common import Violation, describe_type, format_character, is_uuid
from .credential import HOSTNAME_REQUIRED, REGISTRIES, Registry, check_credential, hostname_problem

__all__ = [
    "BUILDERS",
    "DEFAULT_BUILDER",
    "DEFAULT_TAG",
    "HOSTNAME_REQUIRED",
    "REGISTRIES",
    "SIZES",
    "Registry",
    "Violation",
    "check_app",
    "check_credential",
    "describe_type",
    "format_character",
    "hostname_problem",
    "is_uuid",
]
