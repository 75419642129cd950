"""The engine model's own test suite (pulumi_miget.testing): one test per engine rule."""
