"""Enables pulumi-miget's offline-testing fixtures for the tests in this folder.

``miget_emulator`` (a fresh Miget emulator per test) and ``miget_stack`` (a factory of
``OfflineStack`` bound to it) are opt-in: the plugin is not registered with pytest, so it loads
only where a ``conftest.py`` asks for it (or with ``pytest -p pulumi_miget.testing.plugin``).
"""

pytest_plugins = ["pulumi_miget.testing.plugin"]
