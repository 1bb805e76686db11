"""CSV export, read back with pandas and the csv module."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd


def feed(callback, *runs):
    for docs in runs:
        for name, doc in docs:
            callback(name, doc)
    return callback


def test_one_file_per_stream_with_data_key_headers(suitcases, make_run, tmp_path):
    docs = make_run(6, image_dir=tmp_path / "h5")
    cb = feed(suitcases["csv"](directory=tmp_path / "out"), docs)
    files = cb.artifacts[docs[0][1]["uid"]]
    assert set(files) == {"stream:primary", "stream:baseline"}
    primary = pd.read_csv(files["stream:primary"][0])
    assert list(primary.columns) == [
        "seq_num",
        "time",
        "motor",
        "motor_setpoint",
        "det",
    ]  # no images
    events = [d for n, d in docs if n == "event" and "det" in d["data"]]
    np.testing.assert_allclose(primary["det"], [e["data"]["det"] for e in events])
    np.testing.assert_allclose(primary["time"], [e["time"] for e in events])
    assert list(primary["seq_num"]) == [1, 2, 3, 4, 5, 6]
    with open(files["stream:baseline"][0], newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["seq_num", "time", "temperature"]
    assert [float(r[2]) for r in rows[1:]] == [295.0, 296.5]


def test_event_pages_delimiter_and_stream_choice(suitcases, make_run, tmp_path):
    docs = make_run(4, pages=True)
    cb = feed(suitcases["csv"](directory=tmp_path, delimiter="\t", streams=["primary"]), docs)
    files = cb.artifacts[docs[0][1]["uid"]]
    assert set(files) == {"stream:primary"}
    table = pd.read_csv(files["stream:primary"][0], sep="\t")
    assert len(table) == 4 and files["stream:primary"][0].name.endswith("-primary.csv")
