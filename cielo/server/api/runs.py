"""``/api/runs/...``: the catalog of stored runs, for the web application's browser.

Search runs by text, plan, exit status, scan id and time range (a page at a time); read
one run's metadata, its streams' scalar columns and one frame of an array (an area
detector's image) of a running or stored run; download a run written by any
installed suitcase (CSV, NeXus, SPEC, JSONL, ...). The catalog is the one the worker
stores runs in: ``$CIELO_CATALOG``, else the profile's ``[catalog] uri``, else the
user's default. Reads run in FastAPI's thread pool (the catalog is blocking I/O); bad
input is ``{"success": false, "msg": ...}`` naming the value and the fix.
"""

from __future__ import annotations

import functools
import math
import operator
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Security
from fastapi import Query as Param
from fastapi.responses import FileResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from .._access import AccessError
from .._permissions import GroupRules
from ._deps import Principal, authenticated

router = APIRouter(prefix="/api/runs", tags=["catalog of runs"])
_SCOPE = ["read:history"]
#: The most rows of a stream one request returns (the browser decimates beyond that).
MAX_ROWS = 100_000
#: A search counts its matches up to this many (``total_exact`` false beyond: "more than").
COUNT_LIMIT = 10_000


@dataclass
class _Source:
    """Where the runs are, and the plugins that read and write them (made once per app)."""

    uri: str | None
    plugin_manager: Any

    @classmethod
    def of(cls, request: Request) -> _Source:
        source: _Source | None = getattr(request.app.state, "runs_source", None)
        if source is None:
            from cielo.core import make_plugin_manager, read_profile

            settings = request.app.state.settings
            uri = os.environ.get("CIELO_CATALOG") or read_profile(settings.profile).catalog_uri
            source = cls(uri, make_plugin_manager())
            request.app.state.runs_source = source
        return source

    def open(self) -> Any:
        from cielo.storage import open_catalog

        return open_catalog(self.uri, plugin_manager=self.plugin_manager, create=False)

    def suitcases(self) -> dict[str, Any]:
        from cielo.core.plugins import Registry

        return dict(Registry(self.plugin_manager).get("suitcases"))


def _refused(exc: Exception) -> dict[str, Any]:
    return {"success": False, "msg": str(exc)}


def _rules(request: Request, who: Principal) -> GroupRules:
    """The caller's group's rules (which proposals' runs it sees); 403 for a group the
    permissions file does not define."""
    try:
        rules: GroupRules = request.app.state.manager.permissions.rules(who.group)
    except AccessError as exc:
        raise HTTPException(exc.status, detail=str(exc)) from None
    return rules


def _glob_regex(pattern: str) -> str:
    """A glob (``*``, ``?``, ``[...]``, as the permissions file's) as an anchored regular
    expression both catalog backends read."""
    out, i = ["^"], 0
    while i < len(pattern):
        c = pattern[i]
        end = pattern.find("]", i + 2) if c == "[" else -1
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif end > 0:
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out) + "$"


def _visible(rules: GroupRules) -> Any:
    """The catalog query of the runs ``rules`` let the group see (None: every run)."""
    if rules.sees_every_run:
        return None
    from cielo.storage import In, Regex

    query: Any = functools.reduce(
        operator.or_,
        [Regex("proposal", _glob_regex(p)) for p in rules.allowed_proposals],
        In("proposal", []),  # matches nothing: no allowed pattern, no run
    )
    for pattern in rules.forbidden_proposals:
        query = query & ~Regex("proposal", _glob_regex(pattern))
    return query


def _run(cat: Any, uid: str, rules: GroupRules) -> Any:
    """Run ``uid`` (a uid, its beginning, or a scan id), if the group may see it."""
    from cielo.storage import CatalogError

    run = cat.lookup(uid)
    why = rules.proposal_refusal(run.start.get("proposal"))
    if why is not None:
        raise CatalogError(f"run {uid!r} is not shown: {why}")
    return run


def _stream(run: Any, stream: str) -> Any:
    """Stream ``stream`` of ``run``, or :class:`LookupError` naming the streams it has."""
    if stream not in run:
        names = ", ".join(run.stream_names) or "none"
        raise LookupError(f"run {run.uid} has no stream {stream!r}; streams: {names}")
    return run[stream]


def _query(
    text: str, plan: str, status: str, scan_id: str, uid: str, since: str, until: str
) -> Any:
    """The catalog query the search fields describe (None: every run)."""
    from cielo.storage import (
        ExitStatus,
        FullText,
        PlanName,
        Query,
        QueryError,
        ScanID,
        TimeRange,
        Uid,
    )

    parts: list[Query] = []
    if text.strip():
        parts.append(FullText(text))
    if plan.strip():
        parts.append(PlanName(plan.strip()))
    if status.strip():
        parts.append(ExitStatus(status.strip()))
    if uid.strip():
        parts.append(Uid(uid.strip()))
    if scan_id.strip():
        match = re.fullmatch(r"\s*(\d*)\s*(:?)\s*(\d*)\s*", scan_id)
        if not match or not (match[1] or match[3]) or (match[3] and not match[2]):
            raise QueryError(f"scan id {scan_id!r}: give N, or a range A:B (A: or :B open)")
        lo, sep, hi = (int(match[1]) if match[1] else None), match[2], match[3]
        parts.append(ScanID(start=lo, stop=int(hi) if hi else None) if sep else ScanID(lo or 0))
    if since.strip() or until.strip():
        parts.append(TimeRange(_time(since), _time(until)))
    if not parts:
        return None
    query = parts[0]
    for part in parts[1:]:
        query = query & part
    return query


def _time(value: str) -> Any:
    value = value.strip()
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        return value  # ISO 8601; TimeRange refuses anything else, naming it


@router.get("/search")
def search(
    request: Request,
    text: str = Param("", description="words found in the run metadata"),
    plan: str = Param("", description="plan name"),
    status: str = Param("", description="success, abort, fail or incomplete"),
    scan_id: str = Param("", description="a scan id N, or a range A:B"),
    uid: str = Param("", description="a run uid or its beginning (3+ characters)"),
    since: str = Param("", description="started at or after (ISO 8601 or epoch seconds)"),
    until: str = Param("", description="started before (ISO 8601 or epoch seconds)"),
    offset: int = Param(0, ge=0),
    limit: int = Param(20, ge=1, le=1000),
    after: str = Param(
        "", description="the uid of the last run of the previous page: the page after it"
    ),
    count_limit: int = Param(
        COUNT_LIMIT, ge=1, le=1_000_000, description="count the matches up to this many"
    ),
    who: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """A page of runs, newest first: ``runs`` (uid, scan_id, plan_name, time, exit_status,
    num_events), ``total`` matching, ``offset`` and ``limit``. The matches are counted up
    to ``count_limit``: past it ``total`` is ``count_limit`` and ``total_exact`` false
    ("more than"), so a broad search over a large catalog is not counted to its end.
    Give the next page as ``after`` (the last uid shown: the catalog continues from that
    run's place, whatever was stored since) rather than as ``offset`` (which skips rows
    one by one)."""
    from cielo.storage import CatalogError

    if after and offset:
        return _refused(ValueError(f"give offset={offset} or after={after!r}, not both"))
    source = _Source.of(request)
    try:
        query = _query(text, plan, status, scan_id, uid, since, until)
        visible = _visible(_rules(request, who))  # the runs of the proposals it may see
        if visible is not None:
            query = visible if query is None else query & visible
        with source.open() as cat:
            found = (cat.search(query) if query is not None else cat).sorted("-time")
            runs = found.summaries(offset=offset, limit=limit, after=after or None)
            total = found.count(at_most=count_limit + 1)
    except CatalogError as exc:
        if str(exc).startswith("there is no catalog at"):
            runs, total = [], 0  # no run stored yet: the worker makes the file
        else:
            return _refused(exc)
    return {
        "success": True,
        "msg": "",
        "runs": runs,
        "total": min(total, count_limit),
        "total_exact": total <= count_limit,
        "offset": offset,
        "limit": limit,
    }


@router.get("/suitcases")
def suitcases(
    request: Request, _: Principal = Security(authenticated, scopes=_SCOPE)
) -> dict[str, Any]:
    """The formats a run can be downloaded in (the installed suitcases' names)."""
    return {"success": True, "msg": "", "suitcases": sorted(_Source.of(request).suitcases())}


def _scalar(info: dict[str, Any]) -> bool:
    return not info.get("shape") and not info.get("external")


@router.get("/{uid}")
def run_metadata(
    uid: str, request: Request, who: Principal = Security(authenticated, scopes=_SCOPE)
) -> dict[str, Any]:
    """One run (uid, its beginning, or a scan id): ``start``, ``stop`` and each stream's
    data keys with ``scalar`` (whether its column can be read as a table here)."""
    from cielo.storage import CatalogError

    try:
        with _Source.of(request).open() as cat:
            run = _run(cat, uid, _rules(request, who))
            streams = {
                name: {
                    key: {
                        "dtype": info.get("dtype"),
                        "shape": info.get("shape", []),
                        "source": info.get("source"),
                        "units": info.get("units"),
                        "scalar": _scalar(info),
                    }
                    for key, info in run[name].data_keys.items()
                }
                for name in run.stream_names
            }
            return {
                "success": True,
                "msg": "",
                "start": run.start,
                "stop": run.stop,
                "exit_status": run.exit_status,
                "streams": streams,
            }
    except CatalogError as exc:
        return _refused(exc)


def _plain(values: Any) -> list[Any]:
    """A column as JSON values (NaN and infinities become null)."""
    out = values.tolist() if hasattr(values, "tolist") else list(values)
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in out]


@router.get("/{uid}/streams/{stream}")
def stream_columns(
    uid: str,
    stream: str,
    request: Request,
    who: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """A stream's scalar columns: ``seq_num``, ``time`` and ``columns`` by data key (at most
    :data:`MAX_ROWS` rows; ``truncated`` says so); ``arrays`` lists the keys left out."""
    from cielo.storage import CatalogError

    try:
        with _Source.of(request).open() as cat:
            found = _stream(_run(cat, uid, _rules(request, who)), stream)
            keys = found.data_keys
            scalar = [k for k, info in keys.items() if _scalar(info)]
            data = found.columns(scalar, last=MAX_ROWS)
    except (CatalogError, LookupError) as exc:
        return _refused(exc)
    rows = len(data["seq_num"])
    return {
        "success": True,
        "msg": "",
        "seq_num": _plain(data["seq_num"]),
        "time": _plain(data["time"]),
        "columns": {k: _plain(data[k]) for k in scalar},
        "arrays": [k for k in keys if k not in scalar],
        "truncated": rows >= MAX_ROWS,
    }


@router.get("/{uid}/streams/{stream}/peak_stats")
def peak_stats(
    uid: str,
    stream: str,
    request: Request,
    x: str = Param(description="the data key along the scan (a motor), or seq_num"),
    y: str = Param(description="the data key whose peak is measured (a detector)"),
    who: Principal = Security(authenticated, scopes=_SCOPE),
) -> dict[str, Any]:
    """Peak statistics of ``y`` against ``x`` over a stored stream, as
    :func:`cielo.callbacks.compute_peak_stats` computes them: ``n`` (points stored so
    far), ``max``/``min`` (``[x, y]``), ``com``, ``cen``, ``fwhm`` (``null`` unless the
    peak is bracketed; ``note`` says why not)."""
    from cielo.callbacks import compute_peak_stats
    from cielo.storage import CatalogError

    try:
        with _Source.of(request).open() as cat:
            found = _stream(_run(cat, uid, _rules(request, who)), stream)
            keys = found.data_keys
            for key in (x, y):
                if key != "seq_num" and not (key in keys and _scalar(keys[key])):
                    numbers = ", ".join(k for k, info in keys.items() if _scalar(info))
                    raise LookupError(
                        f"stream {stream!r} has no scalar data key {key!r}; give one of: "
                        f"seq_num, {numbers}"
                    )
            data = found.columns([k for k in {x, y} if k != "seq_num"], last=MAX_ROWS)
        stats = compute_peak_stats(data[x], data[y])
    except (CatalogError, LookupError) as exc:
        return _refused(exc)
    except (TypeError, ValueError) as exc:  # a column that is not numbers
        return _refused(ValueError(f"no peak statistics of {y!r} against {x!r}: {exc}"))

    def number(value: float) -> float | None:
        return value if math.isfinite(value) else None

    return {
        "success": True,
        "msg": "",
        "x": x,
        "y": y,
        "n": stats.n,
        "max": [number(v) for v in stats.max],
        "min": [number(v) for v in stats.min],
        "com": number(stats.com),
        "cen": number(stats.cen),
        "fwhm": number(stats.fwhm),
        "note": stats.note,
    }


#: The dtypes a frame is sent as, by numpy kind and size: little-endian, as a browser's
#: typed arrays read them (anything else numeric goes as float64).
_WIRE_DTYPES = {
    "b1": "|u1", "u1": "|u1", "i1": "|i1", "u2": "<u2", "i2": "<i2",
    "u4": "<u4", "i4": "<i4", "f2": "<f4", "f4": "<f4", "f8": "<f8",
}  # fmt: skip


def _wire(frame: Any) -> Any:
    """``frame`` as a C-ordered little-endian array of a dtype JavaScript reads."""
    import numpy as np

    arr = np.asarray(frame)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"a frame of dtype {arr.dtype} is not an image; give a numeric key")
    wire = _WIRE_DTYPES.get(f"{arr.dtype.kind}{arr.dtype.itemsize}", "<f8")
    return np.ascontiguousarray(arr, dtype=np.dtype(wire))


@router.get("/{uid}/streams/{stream}/frames/{key}", response_model=None)
def frame(
    uid: str,
    stream: str,
    key: str,
    request: Request,
    seq_num: int | None = Param(None, ge=1, description="the event's seq_num (default: the last)"),
    who: Principal = Security(authenticated, scopes=_SCOPE),
) -> Response | JSONResponse:
    """One frame of array key ``key`` (an area detector's image, stored in the run or in
    the files it references) of event ``seq_num`` (default: the last stored), while the
    run goes on or after it: the array's bytes, C order, little-endian, with its
    ``X-Cielo-Dtype`` (numpy's name: ``<u2``...), ``X-Cielo-Shape`` (``48,64``) and
    ``X-Cielo-Seq-Num``. A frame not stored yet (the worker commits events at most every
    half second) is ``{"success": false}`` with ``stored`` the last seq_num stored."""
    from cielo.storage import CatalogError

    def refuse(msg: str, **more: Any) -> JSONResponse:
        return JSONResponse({"success": False, "msg": msg, **more})

    try:
        with _Source.of(request).open() as cat:
            run = _run(cat, uid, _rules(request, who))
            if stream not in run:
                names = ", ".join(run.stream_names) or "none"
                return refuse(f"run {run.uid} has no stream {stream!r}; streams: {names}")
            keys = run[stream].data_keys
            if key not in keys or _scalar(keys[key]):
                arrays = ", ".join(k for k, info in keys.items() if not _scalar(info)) or "none"
                return refuse(
                    f"stream {stream!r} of run {run.uid} has no array key {key!r}; "
                    f"array keys: {arrays}"
                )
            wanted = seq_num
            if wanted is None:  # the last stored (all seq_nums read: the live view names one)
                stored = run[stream].columns([])["seq_num"]
                wanted = int(stored[-1]) if len(stored) else 0
            data = run[stream].columns([key], first=wanted, last=wanted)
            if not len(data["seq_num"]):
                stored = run[stream].columns([])["seq_num"]
                last = int(stored[-1]) if len(stored) else 0
                return refuse(
                    f"run {run.uid}, stream {stream!r}: no event {wanted or 1} stored yet (the "
                    f"last stored is {last}); ask again, or for seq_num <= {last}",
                    stored=last,
                )
            image = _wire(data[key][0])
    except (CatalogError, ValueError) as exc:
        return refuse(str(exc))
    headers = {
        "X-Cielo-Dtype": image.dtype.str,
        "X-Cielo-Shape": ",".join(str(n) for n in image.shape),
        "X-Cielo-Seq-Num": str(wanted),
        "Cache-Control": "no-store" if run.stop is None else "private, max-age=3600",
    }
    return Response(image.tobytes(), media_type="application/octet-stream", headers=headers)


@router.get("/{uid}/export/{fmt}", response_model=None)
def export(
    uid: str,
    fmt: str,
    request: Request,
    who: Principal = Security(authenticated, scopes=_SCOPE),
) -> FileResponse | JSONResponse:
    """The run written by the suitcase ``fmt``: its one file, or a zip of its files."""
    from cielo.storage import CatalogError, SuitcaseError

    source = _Source.of(request)
    known = source.suitcases()
    if fmt not in known:
        msg = f"unknown format {fmt!r}; installed suitcases: {', '.join(sorted(known))}"
        return JSONResponse(_refused(ValueError(msg)))
    folder = Path(tempfile.mkdtemp(prefix="cielo-export-"))
    cleanup = BackgroundTask(shutil.rmtree, folder, ignore_errors=True)
    try:
        callback = known[fmt](directory=folder / "out")
        with source.open() as cat:
            run = _run(cat, uid, _rules(request, who))
            run.replay(callback)
        files = sorted(p for p in (folder / "out").rglob("*") if p.is_file())
        if not files:
            raise SuitcaseError(f"the {fmt} suitcase wrote no file for run {run.uid}")
    except (CatalogError, SuitcaseError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        return JSONResponse(_refused(exc))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if len(files) == 1:
        return FileResponse(files[0], filename=files[0].name, background=cleanup)
    bundle = folder / f"{run.uid[:8]}-{fmt}.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder / "out").as_posix())
    return FileResponse(bundle, filename=bundle.name, background=cleanup)
