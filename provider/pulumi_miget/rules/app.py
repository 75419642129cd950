"""The App field rules: one table shared by the provider's ``check``, the emulator and the
CrossGuard policies, in the shape of :mod:`pulumi_miget.rules.credential` (the credential's table).

Each rule says which HTTP status the Miget API answers when it is broken (``api_status``) and,
for the 422 model rules, the Rails-style message it answers with (``api_message``); ``None`` when
the API documents nothing and the limit is this project's own choice (the emulator skips those;
``check`` enforces them all so a typo fails at ``pulumi preview`` instead of at Miget).

Documented by Miget (miget-api.md §3.1 and Miget's ``apps.md`` agent notes):

- ``name``, ``label``, ``project_id``, ``resource_id`` and ``builder`` are required; ``builder`` is
  ``auto``, ``dockerfile`` or ``custom``;
- ``name`` is a lowercase/alphanumeric/hyphen seed; the server appends a random suffix and the
  result must fit 40 characters ("Name is too long (maximum is 40 characters)");
- ``label`` is at most 40 characters ("Label is too long (maximum is 40 characters)");
- ``image_url`` is required for ``container_registry``, has **no scheme and no tag** and holds at
  least one ``/`` (bare ``nginx``, anything with ``://`` and an embedded ``:tag`` are refused with
  422); ``tag`` is a separate field, default ``latest``;
- ``command``/``args`` are arrays of strings; ``ram_size`` (MiB) and ``cpu_size`` (cores) are
  numbers; app variables are ``{key, value}`` strings.

Our choices where the API is silent:

- the name seed is at most **33** characters, so the suffix fits the 40 limit even as
  ``-`` + 6 random characters (Miget's notes show 5, ``wall-pfhqv``; 33 is safe either way), and
  it starts and ends with a letter or digit (it becomes a DNS label in ``public_url``);
- ``image_url`` follows Docker's reference grammar (lowercase repository path; an optional
  ``host[:port]`` first component), at most 255 characters; ``tag`` follows Docker's tag grammar
  (``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}``);
- ``label`` has no leading/trailing whitespace, no control characters (C0, DEL, C1,
  U+2028/U+2029) and no invisible format characters (Unicode category Cf, e.g. U+200B, U+202E);
  ``command``/``args`` items have no NUL and no format characters either;
- a ``label`` equal to ``name`` (what ``check`` fills in when the program sets no label) is
  judged by the name's rules alone: a valid name seed is always a valid label, and a broken name
  is reported once, on ``name``, not also on a ``label`` the program never set (the emulator,
  ``api_rules_only``, still checks both, as the API does);
- ``project_id``, ``resource_id``, ``credential_id`` and ``workspace_id`` are UUIDs;
- ``ram_size`` is a finite number of MiB from **1 to 1048576** (1 TiB) and ``cpu_size`` a
  finite number of cores from **0.001** (one millicore, the finest CPU share a container
  runtime grants) **to 256**; booleans are not numbers. Miget documents no limit; its
  sizes are small (the emulator's defaults are 128 MiB and 0.25 cores), so the bounds only
  catch mistaken units (bytes for MiB, ``0.5`` meaning GiB) and ``inf``/``nan``, which would
  otherwise fail later as an obscure transport error;
- ``env`` keys are environment-variable names (``[A-Za-z_][A-Za-z0-9_]*``, at most 255
  characters); values are strings without NUL characters (otherwise free: they are secrets and
  data, never displayed).

Every pattern ends with ``\\Z``, not ``$``: ``$`` also matches before a final newline, so
``"acme\\n"`` would pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from .common import CONTROL, Violation, describe_type, format_character, is_uuid, never_unknown

__all__ = [
    "BUILDERS",
    "DEFAULT_BUILDER",
    "DEFAULT_TAG",
    "MAX_APP_NAME",
    "MAX_CPU",
    "MAX_LABEL",
    "MAX_NAME_SEED",
    "MAX_RAM_MIB",
    "MIN_CPU",
    "MIN_RAM_MIB",
    "SIZES",
    "check_app",
    "env_key_problem",
    "image_url_problems",
    "name_problems",
    "size_problem",
    "tag_problem",
]

BUILDERS: tuple[str, ...] = ("auto", "dockerfile", "custom")
DEFAULT_BUILDER = "auto"
DEFAULT_TAG = "latest"

MAX_APP_NAME = 40  # Miget's limit, suffix included
NAME_SUFFIX = 7  # "-" + 6 random characters (the emulator's suffix; see the module docstring)
MAX_NAME_SEED = MAX_APP_NAME - NAME_SUFFIX  # 33
MAX_LABEL = 40
MAX_IMAGE_URL = 255
MAX_ENV_KEY = 255
MIN_RAM_MIB = 1
MAX_RAM_MIB = 1_048_576  # 1 TiB
MIN_CPU = 0.001  # one millicore
MAX_CPU = 256
# The numeric inputs: property → (minimum, maximum, unit).
SIZES: Mapping[str, tuple[float, float, str]] = {
    "ram_size": (MIN_RAM_MIB, MAX_RAM_MIB, "MiB"),
    "cpu_size": (MIN_CPU, MAX_CPU, "cores"),
}

# Every pattern ends with \Z, not $: "$" also matches before a trailing newline.
_NAME = re.compile(r"^[a-z0-9-]+\Z")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\Z")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
# Docker's reference grammar (distribution/reference), without tag or digest.
_DOMAIN_LABEL = r"(?:[A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])"
_DOMAIN = re.compile(
    r"^(?:" + _DOMAIN_LABEL + r"(?:\." + _DOMAIN_LABEL + r")*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?\Z"
)
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*\Z")

# Rails full messages the API answers for its 422 rules [INF wording, DOC for the two limits].
NAME_INVALID = "Name is invalid"
NAME_TOO_LONG = f"Name is too long (maximum is {MAX_APP_NAME} characters)"
LABEL_TOO_LONG = f"Label is too long (maximum is {MAX_LABEL} characters)"
IMAGE_URL_BLANK = "Image url can't be blank"
IMAGE_URL_INVALID = (
    "Image url must not include a scheme or a tag and must contain at least one '/' "
    "(e.g. ghcr.io/org/app)"
)


def name_problems(value: str) -> list[tuple[str, int | None, str | None]]:
    """(reason, api_status, api_message) for each way ``value`` is not a valid name seed."""
    problems: list[tuple[str, int | None, str | None]] = []
    if not _NAME.match(value):
        problems.append(
            (
                "may contain only lowercase letters, digits and hyphens (e.g. 'acme-api')",
                422,
                NAME_INVALID,
            )
        )
    elif value.startswith("-") or value.endswith("-"):
        problems.append(("must start and end with a letter or a digit", None, None))
    if len(value) > MAX_NAME_SEED:
        problems.append(
            (
                f"must be at most {MAX_NAME_SEED} characters (got {len(value)}): Miget appends a "
                f"random suffix and the result must fit {MAX_APP_NAME}",
                422,
                NAME_TOO_LONG,
            )
        )
    return problems


def image_url_problems(value: str) -> list[tuple[str, int | None]]:
    """(reason, api_status) for each way ``value`` is not an acceptable ``image_url``."""
    if not value:
        return [("must not be empty", 422)]
    if "://" in value:
        return [("must not include a scheme such as https:// (e.g. 'ghcr.io/acme/api')", 422)]
    if any(c.isspace() for c in value):
        return [("must not contain whitespace", None)]
    parts = value.split("/")
    last = parts[-1]
    if "@" in value:
        return [("must not include a digest (@sha256:...); pin the image with 'tag'", 422)]
    if ":" in last:
        image, _, tag = last.partition(":")
        return [
            (
                f"must not include the tag: set image_url='{'/'.join([*parts[:-1], image])}' "
                f"and tag='{tag}'",
                422,
            )
        ]
    if len(parts) < 2:
        return [
            (
                f"needs a namespace, at least one '/' (for Docker Hub official images use "
                f"'library/{value}')",
                422,
            )
        ]
    problems: list[tuple[str, int | None]] = []
    if len(value) > MAX_IMAGE_URL:
        problems.append((f"must be at most {MAX_IMAGE_URL} characters", None))
    first, rest = parts[0], parts[1:]
    has_domain = "." in first or ":" in first or first == "localhost" or first.startswith("[")
    path = rest if has_domain else parts
    if has_domain and not _DOMAIN.match(first):
        problems.append((f"has an invalid registry host {first!r}", None))
    if not path or not all(_PATH_COMPONENT.match(component) for component in path):
        problems.append(
            (
                "must be a Docker image reference: lowercase letters, digits and the separators "
                "'.', '_', '-' between them, e.g. 'ghcr.io/acme/api'",
                None,
            )
        )
    return problems


def tag_problem(value: str) -> str | None:
    if not _TAG.match(value):
        return (
            "must be a Docker tag: up to 128 letters, digits, '_', '.' or '-', not starting "
            "with '.' or '-' (e.g. '1.2.3')"
        )
    return None


def env_key_problem(key: object) -> str | None:
    if not isinstance(key, str):
        return f"names must be strings, got {describe_type(key)}"
    if len(key) > MAX_ENV_KEY:
        return f"name {key[:20]!r}... is longer than {MAX_ENV_KEY} characters"
    if not _ENV_KEY.match(key):
        return f"name {key!r} is not an environment variable name (letters, digits, '_')"
    return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _show_number(value: float) -> str:
    """``value`` for a message: ``inf``, ``nan``, ``1e+30``, ``0.5`` (never a 400-digit int)."""
    try:
        return f"{value:.15g}"
    except (OverflowError, ValueError):  # an int too large for a float
        return "a number too large to show"


def size_problem(key: str, value: object) -> str | None:
    """Why ``value`` is not an acceptable ``ram_size``/``cpu_size``, or None when it is."""
    low, high, unit = SIZES[key]
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return f"must be a number of {unit}, got {describe_type(value)}"
    # Comparisons, not math.isfinite: they are exact for huge ints, and false for nan.
    if not low <= value <= high:
        return (
            f"must be a finite, positive number of {unit} from {low} to {high} "
            f"(got {_show_number(value)})"
        )
    return None


def check_app(
    props: Mapping[str, Any],
    *,
    is_unknown: Callable[[object], bool] = never_unknown,
    partial: bool = False,
    api_rules_only: bool = False,
) -> list[Violation]:
    """Every rule an App's (flat) properties must meet, in the order the API checks them.

    ``props`` uses the provider's input names (``image_url``, ``credential_id``, ``env``, ...).
    ``is_unknown`` marks values not known yet (Pulumi preview): they are skipped, also inside
    ``env``, ``command`` and ``args``. ``partial`` is for a PUT: absent fields are fine, present
    ones must be valid. ``api_rules_only`` keeps the rules the Miget API documents.
    """
    found: list[Violation] = []

    def add(prop: str, reason: str, status: int | None, message: str | None = None) -> None:
        if status is not None or not api_rules_only:
            found.append(Violation(prop, f"'{prop}' {reason}", status, message))

    def known(key: str) -> Any:
        """The value, or None when absent or unknown."""
        value = props.get(key)
        return None if value is None or is_unknown(value) else value

    # check() fills a missing label in from the name: a label equal to the name is judged by the
    # name's rules alone (a valid seed is a valid label), so a broken name is reported once, on
    # ``name``. The emulator (api_rules_only) checks both columns, as the API does.
    label_is_name = (
        not api_rules_only
        and props.get("label") is not None
        and props["label"] == props.get("name")
    )

    # 1. Required strings (400 "<param> is missing" from the API).
    required = ("name", "label", "project_id", "resource_id", "builder", "image_url")
    for key in (*required, "tag", "credential_id", "workspace_id"):
        value = props.get(key)
        if is_unknown(value) or (key == "label" and label_is_name):
            continue
        if value is None:
            if key in required and not partial:
                if key == "image_url":  # a model rule of container_registry apps
                    add(key, "is required", 422, IMAGE_URL_BLANK)
                else:
                    add(key, "is required", 400)
            continue
        if not isinstance(value, str):
            add(key, f"must be a string, got {describe_type(value)}", 400)

    name = known("name")
    if isinstance(name, str):
        for reason, status, message in name_problems(name):
            add("name", reason, status, message)

    label = None if label_is_name else known("label")
    if isinstance(label, str):
        if not label.strip():
            add("label", "must not be empty", 400)
        else:
            if len(label) > MAX_LABEL:
                add(
                    "label",
                    f"must be at most {MAX_LABEL} characters (got {len(label)})",
                    422,
                    LABEL_TOO_LONG,
                )
            if label != label.strip():
                add("label", "must not start or end with whitespace", None)
            if CONTROL.search(label):
                add("label", "must not contain control characters", None)
            char = format_character(label)
            if char is not None:
                add(
                    "label",
                    f"must not contain invisible format characters ({char}) such as zero-width "
                    "spaces or right-to-left overrides: retype the label instead of pasting it",
                    None,
                )

    for key in ("project_id", "resource_id"):
        value = known(key)
        if isinstance(value, str) and not is_uuid(value):
            add(key, "must be a UUID", 400)
    for key in ("credential_id", "workspace_id"):
        value = known(key)
        if isinstance(value, str) and not is_uuid(value):
            hint = " (pass a credential's output: credential_id=credential.uuid)"
            add(key, "must be a UUID" + (hint if key == "credential_id" else ""), None)

    builder = known("builder")
    if isinstance(builder, str) and builder not in BUILDERS:
        add("builder", f"must be one of {', '.join(BUILDERS)} (got {builder!r})", 400)

    for key in SIZES:
        value = known(key)
        if value is None:
            continue
        problem = size_problem(key, value)
        if problem is not None:
            add(key, problem, 400 if not _is_number(value) else None)

    for key in ("command", "args"):
        value = known(key)
        if value is None:
            continue
        if not isinstance(value, (list, tuple)):
            add(key, f"must be a list of strings, got {describe_type(value)}", 400)
            continue
        items = [item for item in value if not is_unknown(item)]
        wrong = [item for item in items if not isinstance(item, str)]
        if wrong:
            got = describe_type(wrong[0])
            add(key, f"must be a list of strings, got a list with {got} in it", 400)
        elif any("\x00" in item for item in items):
            add(key, "items must not contain NUL characters", None)
        else:
            char = next(filter(None, (format_character(item) for item in items)), None)
            if char is not None:
                add(
                    key,
                    f"items must not contain invisible format characters ({char}) such as "
                    "zero-width spaces or right-to-left overrides",
                    None,
                )

    # 2. The image reference (422 at creation) and its tag.
    image_url = known("image_url")
    if isinstance(image_url, str):
        for reason, status in image_url_problems(image_url):
            add("image_url", reason, status, IMAGE_URL_INVALID if status else None)
    tag = known("tag")
    if isinstance(tag, str):
        problem = tag_problem(tag)
        if problem:
            add("tag", problem, None)

    # 3. Environment variables: a map of name → string.
    env = known("env")
    if env is not None:
        if not isinstance(env, Mapping):
            add("env", f"must be a map of names to strings, got {describe_type(env)}", 400)
        else:
            for key, value in env.items():
                problem = env_key_problem(key)
                if problem:
                    add("env", problem, None)
                if is_unknown(value):
                    continue
                if not isinstance(value, str):
                    add(
                        "env", f"value of {key!r} must be a string, got {describe_type(value)}", 400
                    )
                elif "\x00" in value:
                    add("env", f"value of {key!r} must not contain NUL characters", None)
    return found
