"""The queue store test-suite, run on every backend (see ``STORE_URIS`` in conftest).

Operations are checked one by one, then against a plain-list model over many random
operations, then across a reopened store and a writer killed at random moments.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import pytest

from cielo.server import ItemNotFoundError, QueueError, QueueStore, Where, open_store


def uids(items: list[dict[str, Any]]) -> list[str]:
    return [i["item_uid"] for i in items]


def names(store: QueueStore) -> list[str]:
    return [i["name"] for i in store.queue()]


@pytest.fixture
def abc(store: QueueStore, new_item: Any) -> list[dict[str, Any]]:
    """Three items a, b, c queued in that order."""
    return [store.add(new_item(n)) for n in "abc"]


# -- adding -------------------------------------------------------------------------


def test_add_back_front_and_positions(store: QueueStore, new_item: Any) -> None:
    store.add(new_item("b"))
    store.add(new_item("d"), Where(pos="back"))
    store.add(new_item("a"), Where(pos="front"))
    store.add(new_item("c"), Where(pos=2))
    store.add(new_item("e"), Where(pos=-1))  # -1: the new item ends up last
    store.add(new_item("x"), Where(pos=-2))  # just before the last
    store.add(new_item("z"), Where(pos=100))  # beyond the end: the back
    assert names(store) == ["a", "b", "c", "d", "x", "e", "z"]
    assert store.queue_size() == 7


def test_add_before_and_after_an_item(store: QueueStore, abc: Any, new_item: Any) -> None:
    a, b, c = abc
    store.add(new_item("before_b"), Where(before_uid=b["item_uid"]))
    store.add(new_item("after_c"), Where(after_uid=c["item_uid"]))
    store.add(new_item("after_a"), Where(after_uid=a["item_uid"]))
    assert names(store) == ["a", "after_a", "before_b", "b", "c", "after_c"]
    with pytest.raises(ItemNotFoundError, match="no-such-uid"):
        store.add(new_item("lost"), Where(before_uid="no-such-uid"))
    assert store.queue_size() == 6


def test_where_refuses_two_destinations_and_bad_positions() -> None:
    with pytest.raises(QueueError, match="pos and before_uid"):
        Where(pos=1, before_uid="x")
    with pytest.raises(QueueError, match="'middle'"):
        Where(pos="middle")  # type: ignore[arg-type]


def test_add_refuses_a_duplicate_or_missing_uid(store: QueueStore, abc: Any, new_item: Any) -> None:
    with pytest.raises(QueueError, match=abc[0]["item_uid"]):
        store.add(dict(new_item("again"), item_uid=abc[0]["item_uid"]))
    with pytest.raises(QueueError, match="item_uid"):
        store.add({"item_type": "plan", "name": "count"})
    assert names(store) == ["a", "b", "c"]


def test_add_batch_is_all_or_nothing(store: QueueStore, abc: Any, new_item: Any) -> None:
    batch = [new_item("x"), new_item("y")]
    added = store.add_batch(batch, Where(after_uid=abc[0]["item_uid"]))
    assert uids(added) == uids(batch)
    assert names(store) == ["a", "x", "y", "b", "c"]
    before = store.revisions()
    clash = [new_item("p"), dict(new_item("q"), item_uid=abc[2]["item_uid"]), new_item("r")]
    with pytest.raises(QueueError, match="already in the queue"):
        store.add_batch(clash)
    twice = new_item("t")
    with pytest.raises(QueueError, match="twice"):
        store.add_batch([twice, twice])
    assert names(store) == ["a", "x", "y", "b", "c"]
    assert store.revisions() == before  # a refused operation changes nothing


# -- reading, replacing, moving, removing ----------------------------------------------


def test_get_by_uid_and_position(store: QueueStore, abc: Any) -> None:
    a, b, c = abc
    assert store.get(uid=b["item_uid"]) == b
    assert store.get(pos="front") == a
    assert store.get(pos="back") == store.get() == store.get(pos=-1) == c
    assert store.get(pos=1) == b
    assert store.index(c["item_uid"]) == 2
    with pytest.raises(ItemNotFoundError, match="3 items"):
        store.get(pos=3)
    with pytest.raises(ItemNotFoundError, match="nope"):
        store.get(uid="nope")


def test_replace_keeps_the_place(store: QueueStore, abc: Any, new_item: Any) -> None:
    new = new_item("B")
    store.replace(abc[1]["item_uid"], new)
    assert names(store) == ["a", "B", "c"]
    assert store.get(pos=1)["item_uid"] == new["item_uid"]
    same_uid = dict(new, kwargs={"num": 3})
    store.replace(new["item_uid"], same_uid)
    assert store.get(pos=1)["kwargs"] == {"num": 3}
    with pytest.raises(QueueError, match="already in the queue"):
        store.replace(new["item_uid"], dict(new, item_uid=abc[0]["item_uid"]))
    with pytest.raises(ItemNotFoundError):
        store.replace("missing", new_item("m"))
    assert names(store) == ["a", "B", "c"]


def test_move_single(store: QueueStore, abc: Any, new_item: Any) -> None:
    a, b, c = abc
    store.move(c["item_uid"], Where(pos="front"))
    assert names(store) == ["c", "a", "b"]
    store.move(c["item_uid"], Where(pos="back"))
    assert names(store) == ["a", "b", "c"]
    store.move(a["item_uid"], Where(pos=1))  # its index after the move
    assert names(store) == ["b", "a", "c"]
    store.move(c["item_uid"], Where(before_uid=b["item_uid"]))
    assert names(store) == ["c", "b", "a"]
    store.move(c["item_uid"], Where(after_uid=a["item_uid"]))
    assert names(store) == ["b", "a", "c"]
    with pytest.raises(QueueError, match="itself"):
        store.move(a["item_uid"], Where(before_uid=a["item_uid"]))
    with pytest.raises(ItemNotFoundError):
        store.move("gone", Where(pos="front"))
    with pytest.raises(ItemNotFoundError):
        store.move(a["item_uid"], Where(after_uid="gone"))
    assert names(store) == ["b", "a", "c"]


def test_move_batch_in_given_or_queue_order(store: QueueStore, abc: Any, new_item: Any) -> None:
    a, b, c = abc
    d = store.add(new_item("d"))
    store.move_batch([c["item_uid"], a["item_uid"]], Where(pos="front"))
    assert names(store) == ["c", "a", "b", "d"]
    store.move_batch([a["item_uid"], c["item_uid"]], Where(after_uid=d["item_uid"]), reorder=True)
    assert names(store) == ["b", "d", "c", "a"]
    with pytest.raises(ItemNotFoundError, match="gone"):
        store.move_batch([b["item_uid"], "gone"], Where(pos="back"))
    with pytest.raises(QueueError, match="not moved"):
        store.move_batch([b["item_uid"], d["item_uid"]], Where(before_uid=d["item_uid"]))
    assert names(store) == ["b", "d", "c", "a"]


def test_remove_single_and_batch(store: QueueStore, abc: Any, new_item: Any) -> None:
    a, b, c = abc
    d = store.add(new_item("d"))
    assert store.remove(pos="front") == a
    assert store.remove() == d  # the back by default
    assert names(store) == ["b", "c"]
    with pytest.raises(ItemNotFoundError):
        store.remove_batch([b["item_uid"], "gone"])
    assert names(store) == ["b", "c"]  # nothing removed
    removed = store.remove_batch([c["item_uid"], "gone"], ignore_missing=True)
    assert removed == [c]
    assert store.remove(uid=b["item_uid"]) == b
    with pytest.raises(ItemNotFoundError, match="0 items"):
        store.remove()


def test_clear_keeps_the_running_item_and_history(store: QueueStore, abc: Any) -> None:
    running = store.start_next()
    store.history_add({"item_uid": "h", "name": "old"})
    store.clear()
    assert store.queue() == []
    assert store.running() == running
    assert store.history_size() == 1


# -- running and history ----------------------------------------------------------------


def test_running_item_lifecycle(store: QueueStore, abc: Any, new_item: Any) -> None:
    a, b, c = abc
    assert store.running() is None
    assert store.start_next() == a
    assert store.running() == a and names(store) == ["b", "c"]
    with pytest.raises(QueueError, match="running"):
        store.start_next()
    with pytest.raises(QueueError, match="running"):
        store.set_running(new_item("now"))
    store.finish_running(dict(a, result={"exit_status": "completed"}))
    assert store.running() is None
    assert store.history() == [dict(a, result={"exit_status": "completed"})]
    store.start_next()
    record = dict(b, result={"exit_status": "aborted"})
    assert store.requeue_running(record=record) == b
    assert names(store) == ["b", "c"] and store.running() is None
    assert store.history()[-1] == record
    assert store.requeue_running() is None
    store.start_next()
    assert store.requeue_running(new_uid="b2")["item_uid"] == "b2"
    assert uids(store.queue()) == ["b2", c["item_uid"]]
    now = new_item("now")
    store.set_running(now)
    assert store.running() == now and names(store) == ["b", "c"]
    store.finish_running(now)
    store.clear()
    assert store.start_next() is None and store.running() is None


def test_history_add_and_clear(store: QueueStore, new_item: Any) -> None:
    records = [new_item(f"h{n}", result={"exit_status": "completed"}) for n in range(3)]
    for record in records:
        store.history_add(record)
    assert store.history() == records and store.history_size() == 3
    store.history_clear()
    assert store.history() == [] and store.history_size() == 0


def test_revisions_change_with_every_modification(
    store: QueueStore, abc: Any, new_item: Any
) -> None:
    a, b, c = abc
    steps = [
        ("queue", lambda: store.add(new_item("d"))),
        ("queue", lambda: store.move(a["item_uid"], Where(pos="back"))),
        ("queue", lambda: store.replace(b["item_uid"], dict(b, kwargs={"num": 2}))),
        ("queue", lambda: store.remove(uid=c["item_uid"])),
        ("queue", lambda: store.start_next()),
        ("history", lambda: store.finish_running(new_item("done"))),
        ("history", lambda: store.history_add(new_item("h"))),
        ("history", lambda: store.history_clear()),
        ("queue", lambda: store.clear()),
        ("proposed", lambda: store.propose(new_item("p"))),
        ("lists", lambda: store.list_save("l", [new_item("x")])),
    ]
    for part, step in steps:
        before = store.revisions()
        step()
        after = store.revisions()
        assert getattr(after, part) > getattr(before, part), part


# -- plan lists and proposals -------------------------------------------------------------


def test_named_plan_lists(store: QueueStore, abc: Any, new_item: Any) -> None:
    store.list_save("morning", store.queue())
    store.list_save("one", [abc[0]])
    store.clear()
    assert store.list_names() == ["morning", "one"]
    assert store.list_load("morning") == abc
    store.list_save("one", [abc[1]])  # replaces
    assert store.list_load("one") == [abc[1]]
    store.list_delete("one")
    with pytest.raises(ItemNotFoundError, match="morning"):
        store.list_load("one")  # the message lists what is saved
    with pytest.raises(ItemNotFoundError):
        store.list_delete("one")
    with pytest.raises(QueueError, match="name"):
        store.list_save(" ", [])


def test_proposals_are_approved_into_the_queue_or_removed(
    store: QueueStore, abc: Any, new_item: Any
) -> None:
    p, q = new_item("p"), new_item("q")
    store.propose(p)
    store.propose(q)
    with pytest.raises(QueueError, match="already proposed"):
        store.propose(p)
    assert store.proposed() == [p, q]
    assert store.approve(p["item_uid"], Where(pos="front")) == p
    assert names(store) == ["p", "a", "b", "c"] and store.proposed() == [q]
    assert store.proposed_remove(q["item_uid"]) == q
    assert store.proposed() == []
    with pytest.raises(ItemNotFoundError):
        store.approve(q["item_uid"])


def test_the_queue_as_json_text_is_the_queue(store: QueueStore, abc: Any) -> None:
    import json

    assert json.loads(store.queue_json()) == store.queue() and len(store.queue()) == 3
    store.clear()
    assert store.queue_json() == "[]"


def test_a_review_decision_is_kept_with_the_item_in_the_same_transaction(
    store: QueueStore, new_item: Any
) -> None:
    p, q = new_item("p"), new_item("q")
    store.propose(p)
    store.propose(q)
    before = store.revisions()
    approved = store.approve(p["item_uid"], amend=lambda it: {**it, "review": "yes"})
    assert approved == {**p, "review": "yes"} and store.queue() == [approved]
    taken = store.proposed_remove(q["item_uid"], record=lambda it: {**it, "result": "no"})
    assert taken == q and store.history() == [{**q, "result": "no"}]
    after = store.revisions()
    assert (after.queue, after.history, after.proposed) == (
        before.queue + 1,
        before.history + 1,
        before.proposed + 2,
    )
    with pytest.raises(ItemNotFoundError):  # nothing recorded for a missing proposal
        store.proposed_remove(q["item_uid"], record=lambda it: it)
    assert store.history_size() == 1


# -- against a model, across reopening, across SIGKILL -------------------------------------


def test_random_operations_match_a_list_model(store: QueueStore, new_item: Any) -> None:
    """Many random adds, moves and removes (with many inserts in one spot, which uses up
    the gap between neighbours) give the same order as a Python list."""
    rng = random.Random(11)
    model: list[str] = []
    for step in range(600):
        op = rng.random()
        if op < 0.45 or len(model) < 3:
            item = new_item(f"i{step}")
            if rng.random() < 0.3 and model:  # hammer one spot
                index = 1
            else:
                index = rng.randint(0, len(model))
            store.add(item, Where(pos=index))
            model.insert(index, item["item_uid"])
        elif op < 0.7:
            uid = rng.choice(model)
            model.remove(uid)
            dest = rng.choice(model)
            after = rng.random() < 0.5
            store.move(uid, Where(after_uid=dest) if after else Where(before_uid=dest))
            model.insert(model.index(dest) + after, uid)
        elif op < 0.85:
            uid = rng.choice(model)
            index = rng.randint(0, len(model) - 1)
            store.move(uid, Where(pos=index))
            model.remove(uid)
            model.insert(index, uid)
        else:
            uid = rng.choice(model)
            store.remove(uid=uid)
            model.remove(uid)
    assert uids(store.queue()) == model
    assert [store.index(u) for u in model[:20]] == list(range(min(20, len(model))))


def test_reopened_store_holds_everything(store: QueueStore, store_uri: str, abc: Any) -> None:
    store.start_next()
    store.history_add({"item_uid": "h1", "name": "old"})
    store.propose({"item_uid": "p1", "name": "count"})
    store.list_save("saved", abc)
    revisions = store.revisions()
    store.close()
    again = open_store(store_uri)
    try:
        assert uids(again.queue()) == uids(abc[1:])
        assert again.running() == abc[0]
        assert uids(again.history()) == ["h1"]
        assert uids(again.proposed()) == ["p1"]
        assert again.list_load("saved") == abc
        assert again.revisions() == revisions
    finally:
        again.close()


_WRITER = textwrap.dedent(
    """
    import sys
    from cielo.server import open_store, Where
    store = open_store(sys.argv[1])
    n = 0
    print("ready", flush=True)
    while True:
        # one item enters as a batch of two with a move, then the front runs and finishes
        store.add_batch([{"item_uid": f"u{n}", "n": n}, {"item_uid": f"v{n}", "n": n}],
                        Where(pos="front"))
        store.move(f"v{n}", Where(pos="back"))
        store.remove(uid=f"v{n}")
        if store.queue_size() > 3:
            store.start_next()
            running = store.running()
            store.finish_running(dict(running, result={"exit_status": "completed"}))
        n += 1
    """
)


@pytest.mark.slow
def test_a_writer_killed_at_random_moments_leaves_a_consistent_store(store_uri: str) -> None:
    """SIGKILL a writer at random points: every item it added is in exactly one place
    (queue, running or history), nothing is duplicated, and no item is half-added."""
    rng = random.Random(5)
    for _ in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", _WRITER, store_uri], stdout=subprocess.PIPE, text=True
        )
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.02, 0.3))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        store = open_store(store_uri)
        try:
            queued = uids(store.queue())
            history = uids(store.history())
            running = store.running()
            every = queued + history + ([running["item_uid"]] if running else [])
            assert len(every) == len(set(every)), "an item appears twice"
            half = [u for u in queued if u.startswith("v")]
            assert len(half) <= 1 and all(f"u{v[1:]}" in every for v in half), "half a batch"
            numbers = sorted(int(u[1:]) for u in every if u.startswith("u"))
            assert numbers == list(range(len(numbers))), "an added item was lost"
            assert all(u.startswith("u") for u in history)
            if running is not None:  # killed between start_next and finish_running
                store.finish_running(dict(running, result={"exit_status": "failed"}))
            store.clear()  # the next writer starts numbering again from 0
            store.history_clear()
        finally:
            store.close()
