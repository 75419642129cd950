"""The package version, kept in a tiny module so the User-Agent needs no metadata lookup."""

__version__ = "0.1.0"
