"""The package version, in one place (read by the facade, results files and reports)."""

__version__ = "0.1.0"
