"""LLM providers: base.py is the protocol, one file per implementation."""

from agents.providers.llm.base import LLM

PROVIDERS = ("llamacpp", "openai")


def make_llm(provider: str, **options) -> LLM:
    """Build an LLM provider by name; `options` go to its constructor.

    "llamacpp": LlamaCppLLM (a GGUF model in-process; `model=` a packaged name or a path).
    "openai": OpenAICompatibleLLM (`base_url=`, `model=`, `api_key=`).
    Imports lazily, so a gateway using one never loads the other's library.
    """
    if provider == "llamacpp":
        from agents.providers.llm.llamacpp import LlamaCppLLM

        return LlamaCppLLM(**options)
    if provider == "openai":
        from agents.providers.llm.openai import OpenAICompatibleLLM

        return OpenAICompatibleLLM(**options)
    raise ValueError(f"unknown LLM provider {provider!r}: expected one of {', '.join(PROVIDERS)}")
