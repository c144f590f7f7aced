"""Language tags: what Home Assistant pipelines use, what Deepgram takes.

Pipelines ask for exact tags such as `en-US` or `de-DE` and the STT
component demands an exact match in `supported_languages`, while Deepgram's
models list tags such as `en`, `en-US`, `de`, `de-CH`. Each base language a
model offers is therefore also offered with the regions people use.
"""

from __future__ import annotations

from collections.abc import Iterable

MULTI = "multi"

_REGIONS: dict[str, tuple[str, ...]] = {
    "ar": ("AE", "EG", "SA"),
    "ca": ("ES",),
    "cs": ("CZ",),
    "da": ("DK",),
    "de": ("AT", "CH", "DE", "LU"),
    "el": ("GR",),
    "en": ("AU", "CA", "GB", "IE", "IN", "NZ", "US", "ZA"),
    "es": ("419", "AR", "CL", "CO", "ES", "MX", "US"),
    "et": ("EE",),
    "fr": ("BE", "CA", "CH", "FR", "LU"),
    "he": ("IL",),
    "hi": ("IN",),
    "it": ("CH", "IT"),
    "ja": ("JP",),
    "ko": ("KR",),
    "ms": ("MY",),
    "nl": ("BE", "NL"),
    "no": ("NO",),
    "pt": ("BR", "PT"),
    "sv": ("SE",),
    "uk": ("UA",),
    "vi": ("VN",),
    "zh": ("CN", "HK", "TW"),
}
# Home Assistant says Norwegian Bokmål/Nynorsk; Deepgram says Norwegian.
_ALIASES = {"nb": "no", "nn": "no"}


def _base(tag: str) -> str:
    return tag.split("-", 1)[0].lower()


def supported_languages(model_languages: Iterable[str]) -> list[str]:
    """Every tag a pipeline may ask for that the model can transcribe."""
    tags: set[str] = set()
    for language in model_languages:
        if language == MULTI:
            continue
        base = _base(language)
        tags.update((language, base))
        regions = _REGIONS.get(base, (base.upper(),))
        tags.update(f"{base}-{region}" for region in regions)
        if base == "no":
            tags.update(("nb", "nb-NO", "nn", "nn-NO"))
    return sorted(tags)


def deepgram_language(
    pipeline_language: str, model_languages: Iterable[str], *, multilingual: bool
) -> str:
    """The `language` to send for a pipeline's tag, mapped to the model's tags."""
    if multilingual:
        return MULTI
    offered = {lang.lower(): lang for lang in model_languages}
    wanted = pipeline_language.strip()
    if wanted.lower() in offered:
        return offered[wanted.lower()]
    base = _ALIASES.get(_base(wanted), _base(wanted))
    if base in offered:
        return offered[base]
    for lowered, tag in sorted(offered.items()):
        if lowered.startswith(f"{base}-"):
            return tag
    return base
