"""Msg is field-compatible with Bluesky's."""

import pickle

from cielo import Msg


def test_fields_and_defaults():
    msg = Msg("set", "motor", 1.5, group="A", run="r1")
    assert msg.command == "set"
    assert msg.obj == "motor"
    assert msg.args == (1.5,)
    assert msg.kwargs == {"group": "A"}
    assert msg.run == "r1"
    assert Msg("null") == ("null", None, (), {}, None)


def test_round_trips_through_pickle_and_unpacks():
    msg = Msg("sleep", None, 0.1)
    command, obj, args, kwargs, run = pickle.loads(pickle.dumps(msg))
    assert (command, obj, args, kwargs, run) == ("sleep", None, (0.1,), {}, None)


def test_bluesky_msg_is_interchangeable():
    from bluesky.utils import Msg as BlueskyMsg

    assert tuple(Msg("read", "det")) == tuple(BlueskyMsg("read", "det"))
    assert BlueskyMsg("trigger", "x", group="g")._fields == Msg("trigger", "x")._fields


def test_replace_and_asdict_keep_the_type_and_fields():
    msg = Msg("set", "motor", 1.5, group="A")
    moved = msg._replace(obj="motor2", run="r2")
    assert type(moved) is Msg
    assert moved == Msg("set", "motor2", 1.5, group="A", run="r2")
    assert msg.obj == "motor"  # the original is unchanged
    assert moved._asdict() == {
        "command": "set",
        "obj": "motor2",
        "args": (1.5,),
        "kwargs": {"group": "A"},
        "run": "r2",
    }
    assert Msg._make(["null", None, (), {}, None]) == Msg("null")


def test_repr_and_pickle_keep_every_field():
    msg = Msg("set", "motor", 1.5, run="r1", group="A")
    assert repr(msg) == "Msg('set', obj='motor', args=(1.5,), kwargs={'group': 'A'}, run='r1')"
    again = pickle.loads(pickle.dumps(msg))
    assert type(again) is Msg and again == msg and again.run == "r1"
