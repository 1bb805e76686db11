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
