"""The stable import path of App.

Users' states pickle the provider by reference as ``pulumi_miget.app.AppProvider``, so this
module and that name stay forever. The code lives in :mod:`pulumi_miget.resources.app`.
"""

from .resources.app import App, AppArgs, AppProvider

__all__ = ["App", "AppArgs", "AppProvider"]
