"""The built-in `extractive` engine (SPEC §5): a summary from rules and small data packages."""

from service.engines.extractive.engine import MODEL, ExtractiveEngine

__all__ = ["MODEL", "ExtractiveEngine"]
