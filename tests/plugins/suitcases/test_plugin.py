"""The suitcases plugin through a profile: the names docs and outside checks rely on."""

from __future__ import annotations


def test_sim_profile_offers_the_six_suitcases_by_name(monkeypatch, tmp_path, make_run):
    from cielo import load_profile

    monkeypatch.setenv("CIELO_CATALOG", f"sqlite:///{tmp_path / 'c.sqlite'}")
    env = load_profile("sim")
    assert {"jsonl", "msgpack", "csv", "tiff", "spec", "nexus"} <= set(env.suitcases)
    docs = make_run(2)
    for name in ("jsonl", "msgpack", "csv", "spec", "nexus"):
        callback = env.suitcases[name](directory=tmp_path / name)
        for doc_name, doc in docs:
            callback(doc_name, doc)
        (files,) = callback.artifacts.values()
        assert files and all(p.stat().st_size for paths in files.values() for p in paths), name
