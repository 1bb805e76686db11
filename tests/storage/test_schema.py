"""The catalog schema is versioned; opening an older catalog migrates it in place."""

from __future__ import annotations

import pytest

from cielo.storage import SCHEMA_VERSION, SchemaVersionError, migrate, open_catalog, schema_version
from cielo.storage._database import connect


def test_new_catalog_has_the_latest_schema(catalog_uri):
    open_catalog(catalog_uri).close()
    db = connect(catalog_uri)
    assert schema_version(db) == SCHEMA_VERSION
    assert migrate(db) == SCHEMA_VERSION  # nothing left to do
    db.close()


def test_version_1_catalog_is_migrated_with_its_runs(catalog_uri, make_run):
    db = connect(catalog_uri)
    assert migrate(db, target=1) == 0  # a catalog as the first release wrote it
    db.close()
    from cielo.storage import Catalog, ReaderRegistry, Uid

    old = Catalog(connect(catalog_uri), readers=ReaderRegistry())
    docs = make_run(3, md={"sample": "quartz crystal"})
    with old.writer() as writer:
        for name, doc in docs:
            writer(name, doc)
    assert len(old.search(Uid(docs[0][1]["uid"][:6]))) == 1
    old.close()
    cat = open_catalog(catalog_uri)  # migrates 1 -> latest, full text included
    assert schema_version(cat.db) == SCHEMA_VERSION
    assert [r.uid for r in cat.search("quartz").runs()] == [docs[0][1]["uid"]]
    assert len(cat[-1]["primary"].read()) == 3


def test_newer_schema_is_refused(catalog_uri):
    cat = open_catalog(catalog_uri)
    with cat.db.transaction():
        cat.db.execute("UPDATE cielo_schema SET version = ?", (SCHEMA_VERSION + 1,))
    cat.close()
    with pytest.raises(
        SchemaVersionError, match=f"schema version {SCHEMA_VERSION + 1}.*upgrade cielo"
    ):
        open_catalog(catalog_uri)
