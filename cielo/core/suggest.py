""" "Did you mean ...?": the closest known name to a mistyped one, for error messages.

Every refusal that names an unknown plan, device, parameter, key or transport offers the
closest known choice the same way (:mod:`difflib`'s ratio, one suggestion).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

__all__ = ["did_you_mean"]


def did_you_mean(
    word: object,
    choices: Iterable[object],
    *,
    before: str = "",
    after: str = "",
    cutoff: float = 0.6,
    show: Callable[[str], str] = repr,
) -> str:
    """``before + "did you mean 'x'?" + after`` for the choice closest to ``word``;
    ``""`` when none is close enough (or ``word`` is not a string).

    Examples
    --------
    >>> did_you_mean("motr1", ["motor1", "det"], before="; ")
    "; did you mean 'motor1'?"
    >>> did_you_mean("zzz", ["motor1"])
    ''
    """
    if not isinstance(word, str):
        return ""
    import difflib  # only on the error path (import cielo stays light)

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=cutoff)
    return f"{before}did you mean {show(close[0])}?{after}" if close else ""
