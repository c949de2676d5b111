"""Engines built from settings: the configured one, and the fallback when the LLM fails."""

from __future__ import annotations

from typing import Literal

from service.config import Settings
from service.engines.base import Engine
from service.prompts import Prompts


def build_engine(
    settings: Settings, prompts: Prompts, name: Literal["llm", "extractive"] | None = None
) -> Engine:
    """The engine `name`, or the one `SUMMARIZER_ENGINE` resolves to (`auto`: llm when an endpoint is set)."""
    chosen = name or settings.resolved_engine
    if chosen == "llm":
        if settings.fallback_models:  # a chain of deployments: the primary, then SUMMARIZER_FALLBACK_MODELS
            from service.engines.chain import ModelChain

            return ModelChain(settings, prompts)
        from service.engines.llm import LLMEngine

        return LLMEngine(settings, prompts)
    from service.engines.extractive import ExtractiveEngine

    return ExtractiveEngine()


def build_fallback(settings: Settings, prompts: Prompts) -> Engine | None:
    """The extractive engine when `SUMMARIZER_FALLBACK=extractive` and the primary engine is the LLM."""
    if settings.fallback == "extractive" and settings.resolved_engine == "llm":
        return build_engine(settings, prompts, "extractive")
    return None


def prompt_version(engine: Engine, prompts: Prompts, settings: Settings) -> str:
    """What the prompt contributes to a result: the prompt files' hash and the structured-output mode for the
    LLM; nothing for engines that use no prompt."""
    if engine.name == "llm":
        return f"{prompts.version}-{settings.structured_mode}"
    return "none"
