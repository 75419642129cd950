"""The emulator's routes, one module per collection, each with a ``register(app)`` that adds its
blueprint: Miget's credential, app and deployment APIs under ``/api/v1`` (authenticated,
``auth.py``) and the emulator's own control API under ``/_emulator``. The app factory
(``wsgi.py``) registers ``ROUTES`` in order; the route modules import ``http.py``, never the
factory."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from pulumi_miget.emulator.routes import apps, control, credentials, deployments

__all__ = ["ROUTES"]

ROUTES: tuple[Callable[[Flask], None], ...] = (
    credentials.register,
    apps.register,
    deployments.register,
    control.register,
)
