"""Program-side helpers of the resource classes: the options they register with.

These run in the Pulumi program (never in the provider process) and load nothing of the HTTP
stack. They refuse what the engine would silently mishandle for dynamic resources
(pulumi-dynamic.md, "Engine audit").
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.dynamic import Resource, ResourceProvider

from .errors import ResourceOptionsError

if TYPE_CHECKING:
    from .spec import ResourceSpec

__all__ = [
    "read_existing",
    "resource_inputs",
    "resource_options",
    "uuid_from_id",
    "with_secret_outputs",
]


def with_secret_outputs(
    opts: pulumi.ResourceOptions | None, keys: list[str]
) -> pulumi.ResourceOptions:
    """The program's options plus ``additional_secret_outputs`` for ``keys``."""
    return pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(additional_secret_outputs=keys)
    )


def resource_options(
    opts: pulumi.ResourceOptions | None,
    secret_keys: list[str],
    resource: str,
    *,
    needs_delete_first: str | None = None,
) -> pulumi.ResourceOptions:
    """The options a Miget resource registers with, after refusing:

    - ``replace_on_changes``: ignored for Python dynamic resources (the server sends no
      detailed diff, step_generator.go applyReplaceOnChanges); point at ``replacement_trigger``;
    - a ``replacement_trigger`` without ``delete_before_replace=True``: a triggered replace never
      asks the provider's Diff, so the engine would create the new object before deleting the
      old one, and with the same name in the same workspace that fails;
    - ``delete_before_replace=False`` where ``needs_delete_first`` says why not: the user's
      option overrides the provider's answer (step_generator.go:2043-2046).
    """
    if opts is not None:
        if opts.replace_on_changes:
            raise ResourceOptionsError(
                f"{resource}: replace_on_changes is ignored by the Pulumi engine for dynamic "
                "providers such as this one. To force a replacement, use "
                "pulumi.ResourceOptions(replacement_trigger=<a value that changes>, "
                "delete_before_replace=True) (Pulumi SDK >= 3.214)."
            )
        if needs_delete_first and opts.delete_before_replace is False:
            raise ResourceOptionsError(
                f"{resource}: delete_before_replace=False cannot be used with this resource: "
                f"{needs_delete_first} Leave delete_before_replace unset."
            )
        trigger = getattr(opts, "replacement_trigger", None)
        if trigger is not None and opts.delete_before_replace is not True:
            raise ResourceOptionsError(
                f"{resource}: replacement_trigger needs delete_before_replace=True: a triggered "
                "replacement keeps the name, which Miget allows only once per workspace, so the "
                "old object must be deleted before the new one is created."
            )
    return with_secret_outputs(opts, secret_keys)


def uuid_from_id(resource: pulumi.CustomResource) -> None:
    """Make ``resource.uuid`` the resource id.

    In a preview of an update the engine answers with the checked inputs as outputs, so every
    output the provider computes (``uuid`` too) is unknown; only the id stays known
    (provider_plugin.go:1709-1714, step.go:963). The uuid *is* the id, so taking it from there
    keeps it known: an App using ``credential.uuid`` does not preview as changed on every token
    rotation. The id Output carries the dependency on the resource, as ``uuid`` did.
    """
    resource.uuid = resource.id  # type: ignore[attr-defined]


def resource_inputs(
    resource: str, args_class: type[Any], args: object | None, kwargs: dict[str, Any]
) -> dict[str, Any]:
    """A resource's inputs from its ``*Args`` object or from keyword arguments (not both), as
    Pulumi-generated SDKs accept them; a missing or unknown argument is a ``TypeError`` that
    names it, as for any Python call."""
    fields = dataclasses.fields(args_class)
    if args is not None:
        if kwargs:
            raise TypeError(
                f"{resource}() takes an {args_class.__name__} or keyword arguments, not both "
                f"(got {', '.join(sorted(kwargs))})"
            )
        if not isinstance(args, args_class):
            raise TypeError(
                f"{resource}() takes an {args_class.__name__} as its second argument, "
                f"got {type(args).__name__}"
            )
        return {f.name: getattr(args, f.name) for f in fields}
    names = {f.name for f in fields}
    unknown = sorted(set(kwargs) - names)
    if unknown:
        raise TypeError(f"{resource}() got an unexpected keyword argument {unknown[0]!r}")
    missing = [
        f.name
        for f in fields
        if f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
        and f.name not in kwargs
    ]
    if missing:
        raise TypeError(f"{resource}() missing required argument {missing[0]!r}")
    return {f.name: kwargs.get(f.name) for f in fields}


def read_existing(
    resource: Resource,
    provider: ResourceProvider,
    spec: ResourceSpec,
    resource_name: str,
    id: pulumi.Input[str],
    opts: pulumi.ResourceOptions | None,
    workspace_id: pulumi.Input[str] | None,
) -> None:
    """Register ``resource`` (made with ``cls.__new__``) as a ``.get()`` of object ``id``: every
    property unset but the workspace, the provider's ``read`` fills in the rest."""
    Resource.__init__(
        resource,
        provider,
        resource_name,
        spec.get_props(workspace_id),
        pulumi.ResourceOptions.merge(
            with_secret_outputs(opts, spec.secret_outputs), pulumi.ResourceOptions(id=id)
        ),
    )
    uuid_from_id(resource)
