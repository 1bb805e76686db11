"""Plan text is parsed with ast, never evaluated; anything but literals and device names is refused."""

from __future__ import annotations

import pytest

from cielo.cli import ALLOWED, PlanCall, parse_plan_call
from cielo.core import PlanParameterError

PLANS = {"scan", "count"}
DEVICES = {"det", "det2", "motor"}


def parse(text: str) -> PlanCall:
    return parse_plan_call(text, PLANS, DEVICES)


def test_literals_containers_and_device_names():
    call = parse(
        "scan([det, det2], motor, -1, 1.5e0, 10, flag=True, opt=None, md={'a': (1, -2.5)})"
    )
    assert call.plan == "scan"
    assert call.args == (["det", "det2"], "motor", -1, 1.5, 10)
    assert call.kwargs == {"flag": True, "opt": None, "md": {"a": (1, -2.5)}}
    assert parse("  count( [det] )  ") == PlanCall("count", (["det"],), {})
    assert parse("count(['det'], num=+3)").kwargs == {"num": 3}


@pytest.mark.parametrize(
    ("text", "piece", "why"),
    [
        ("__import__('os')", "", "unknown plan '__import__'"),
        ("count(__import__('os').system('true'))", "__import__('os').system('true')", "calls"),
        ("count([det.x])", "det.x", "attribute access"),
        ("os.system('ls')", "os.system", "named directly"),
        ("count([detector])", "detector", "unknown name 'detector'; did you mean 'det'?"),
        ("count([d for d in x])", "[d for d in x]", "comprehensions"),
        ("count(lambda: 1)", "lambda: 1", "lambdas"),
        ("count(f'{det}')", "f'{det}'", "f-strings"),
        ("count(*[det])", "*[det]", "starred"),
        ("count(**{'num': 1})", "{'num': 1}", "unpacking"),
        ("count([det], num=1+1)", "1+1", "arithmetic"),
        ("count([det])[0]", "count([det])[0]", "not a plan call"),
        ("count({det})", "{det}", "sets"),
        ("count(b'x')", "b'x'", "only numbers, strings"),
        ("count([det], md={{}: 1})", "{}", "dict keys must be strings or numbers"),
        ("count([det], md={1j: 2})", "1j", "dict keys must be strings or numbers"),
        ("count([det], num=1j)", "1j", "only numbers, strings"),
        ("count(-det)", "-det", "UnaryOp"),
    ],
)
def test_refused_with_the_offending_piece_and_what_is_allowed(text, piece, why):
    with pytest.raises(PlanParameterError) as info:
        parse(text)
    message = str(info.value)
    assert why in message
    if piece:
        assert repr(piece) in message
    assert ALLOWED in message


def test_unknown_plan_suggests():
    with pytest.raises(PlanParameterError, match="unknown plan 'scna'; did you mean 'scan'"):
        parse("scna([det], motor, 1, 2, 3)")


def test_syntax_error_is_refused():
    with pytest.raises(PlanParameterError, match="cannot parse"):
        parse("count([det]")
