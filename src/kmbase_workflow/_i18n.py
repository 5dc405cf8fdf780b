"""Bilingual text: every user-facing message carries Chinese and English."""

from __future__ import annotations

from typing import Literal

import attrs

Lang = Literal["zh", "en"]
"""A message language: ``"zh"`` (简体中文) or ``"en"`` (English)."""

LANGS: tuple[Lang, ...] = ("zh", "en")


@attrs.frozen
class Text:
    """A message in Chinese and English.

    >>> t = Text(zh="材料不全", en="materials incomplete")
    >>> t.in_("en")
    'materials incomplete'
    >>> str(t)
    '材料不全 / materials incomplete'
    """

    zh: str
    en: str

    def in_(self, lang: Lang) -> str:
        """The message in one language."""
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"

    def format(self, **values: object) -> Text:
        """Fill ``{placeholders}`` in both languages with the same values."""
        return Text(zh=self.zh.format(**values), en=self.en.format(**values))
