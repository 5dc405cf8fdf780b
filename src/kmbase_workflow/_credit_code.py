"""The unified social credit code (统一社会信用代码) of GB 32100-2015."""

from __future__ import annotations

from ._i18n import Text

# GB 32100-2015 §4: the code's character set (no I, O, S, V, Z) and the weights of the
# first 17 characters; the 18th is the check character.
_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: value for value, char in enumerate(_CHARSET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_LENGTH = 18


def credit_code_check_character(first_17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a code.

    >>> credit_code_check_character("91350100M000100Y4")
    '3'
    """
    total = sum(_VALUES[char] * weight for char, weight in zip(first_17, _WEIGHTS, strict=True))
    return _CHARSET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> Text | None:
    """What is wrong with ``code`` as a unified social credit code, or ``None`` if valid."""
    if len(code) != _LENGTH:
        return Text(
            zh=f"统一社会信用代码应为18位，实际为{len(code)}位",
            en=f"a unified social credit code has 18 characters, got {len(code)}",
        )
    bad = sorted({char for char in code if char not in _VALUES})
    if bad:
        return Text(
            zh=f"统一社会信用代码含有不允许的字符 {''.join(bad)}（不使用 I、O、S、V、Z）",
            en=f"characters not allowed in a unified social credit code: {''.join(bad)} "
            "(I, O, S, V and Z are never used)",
        )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        return Text(
            zh=f"统一社会信用代码校验位错误：应为 {expected}，实际为 {code[17]}（GB 32100-2015）",
            en=f"wrong check character in unified social credit code: expected {expected}, "
            f"got {code[17]} (GB 32100-2015)",
        )
    return None
