"""A demo EPICS IOC on pythonSoftIOC: a small simulated beamline served over Channel Access.

Run it with ``cielo ioc sim`` or ``python -m cielo.plugins.epics.demo_ioc``. It serves,
under a prefix (default ``CIELO:``):

================================  ===================================================
PV                                what it is
================================  ===================================================
``ao`` / ``ai``                   analog output with alarm limits; ``ai`` follows it
                                  (a put to ``ao`` completes once ``ai`` has followed)
``bo`` / ``bi``                   binary output (Off/On); ``bi`` follows it
``wf``                            waveform of 32 doubles (writable)
``str``                           string output
``calc``                          calc record counting up, scanned every 0.1 s
``fast`` / ``fast:PERIOD``        ``fast`` counts up every ``PERIOD`` s (0 = stopped)
``m1:VAL RBV DMOV MOVN STOP``     simulated motor; a put to ``VAL`` completes when the
``m1:HLM LLM EGU VELO PREC``      move ends, ``DMOV`` goes 0 then 1, ``STOP`` stops it
``m2:...``                        as ``m1`` but its put completes at once (only ``DMOV``
                                  tells when the move ends, like caproto's fake motor)
``det``                           a Gaussian peak (with noise) over ``m1``'s position
``scaler1:CNT TP T S1..S3 NM1..3``  scaler: a put ``CNT=1`` counts for ``TP`` s;
                                  ``CNT`` goes back to 0 when done (the put itself
                                  completes at once); ``S1`` is a 10 MHz clock, ``S2``
                                  the peak over ``m1``, ``S3`` a background
================================  ===================================================

The motor and scaler use ``:`` between record name and field (``CIELO:m1:RBV``)
because record names cannot contain dots; a real motor record uses ``.RBV``. The
``epics.motor`` and ``epics.scaler`` device types take that separator as a parameter.

Give each IOC its own Channel Access port (``--port``), and ``--interface 127.0.0.1``
to keep it on loopback, so several run side by side (PV Access is off).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["DEFAULT_PORT", "DEFAULT_PREFIX", "READY_MARK", "main", "pv_names", "ioc_env"]

DEFAULT_PREFIX = "CIELO:"
DEFAULT_PORT = 5064
#: The line the IOC prints (followed by ``prefix=... port=...``) once it serves PVs.
READY_MARK = "cielo demo IOC ready:"

_CALC_DB = """\
record(calc, "$(P)calc") {
    field(DESC, "counts up every 0.1 s")
    field(SCAN, ".1 second")
    field(CALC, "(A+1)%100000")
    field(INPA, "$(P)calc NPP")
    field(PREC, "0")
    field(EGU, "counts")
}
"""

_MOTOR_FIELDS = ("VAL", "RBV", "DMOV", "MOVN", "STOP", "HLM", "LLM", "EGU", "VELO", "PREC")
_SCALER_FIELDS = ("CNT", "TP", "T", "S1", "S2", "S3", "NM1", "NM2", "NM3")


def pv_names(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Every PV the demo IOC serves under ``prefix``."""
    names = ["ao", "ai", "bo", "bi", "wf", "str", "calc", "fast", "fast:PERIOD", "det"]
    names += [f"{m}:{f}" for m in ("m1", "m2") for f in _MOTOR_FIELDS]
    names += [f"scaler1:{f}" for f in _SCALER_FIELDS]
    return [prefix + n for n in names]


def ioc_env(port: int, interface: str = "") -> dict[str, str]:
    """The environment that makes an IOC serve Channel Access on ``port``.

    With ``interface`` (e.g. ``"127.0.0.1"``) it serves, sends beacons and searches on
    that address only; with ``""`` on every interface, as EPICS does by default.
    """
    env = {"EPICS_CA_SERVER_PORT": str(port), "EPICS_CAS_SERVER_PORT": str(port)}
    if interface:
        env |= {
            "EPICS_CAS_INTF_ADDR_LIST": interface,
            "EPICS_CAS_AUTO_BEACON_ADDR_LIST": "NO",
            "EPICS_CAS_BEACON_ADDR_LIST": interface,
            "EPICS_CA_AUTO_ADDR_LIST": "NO",
            "EPICS_CA_ADDR_LIST": f"{interface}:{port}",
        }
    return env


def _peak(x: float) -> float:
    """The demo detector's signal at motor position ``x``: a peak at 0.5, sigma 1."""
    return 1000.0 * math.exp(-((x - 0.5) ** 2) / 2.0) + 10.0


class _IocOnly:
    """Output records that only the IOC writes (clients' puts are refused).

    The IOC's readbacks (RBV, DMOV, counts, ...) are output records rather than input
    records: setting an output record processes it at once, in order, whereas an input
    record's update is queued to a scan thread and may be posted after a later update
    of another record (counts after "done", a readback after put-completion).
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def fields(self) -> dict[str, Any]:
        """Keyword arguments for ``builder.aOut``/``longOut``/``boolOut``."""
        return {"validate": self._allowed, "always_update": True}

    def _allowed(self, _record: Any, _value: Any) -> bool:
        return bool(getattr(self._local, "on", False))

    def set(self, record: Any, value: Any) -> None:
        """Set ``record`` to ``value`` (processing it now)."""
        self._local.on = True
        try:
            record.set(value)
        finally:
            self._local.on = False


_IOC_ONLY = _IocOnly()


class _Motor:
    """Records of one simulated motor, moving at ``VELO`` in 10 ms steps."""

    def __init__(self, builder: Any, name: str, *, hold_put: bool, on_move: Any = None) -> None:
        self.name = name
        self._on_move = on_move
        self._stop_requested = False
        #: Counts moves: a move started while another runs takes over (as a motor
        #: record retargets), and the older move's loop ends without touching DMOV.
        self._generation = 0
        only = _IOC_ONLY.fields
        self.rbv = builder.aOut(name + ":RBV", initial_value=0.0, EGU="mm", PREC=3, **only)
        self.dmov = builder.longOut(name + ":DMOV", initial_value=1, **only)
        self.movn = builder.longOut(name + ":MOVN", initial_value=0, **only)
        self.hlm = builder.aOut(name + ":HLM", initial_value=10.0, EGU="mm", PREC=3)
        self.llm = builder.aOut(name + ":LLM", initial_value=-10.0, EGU="mm", PREC=3)
        self.velo = builder.aOut(name + ":VELO", initial_value=10.0, EGU="mm/s", PREC=3)
        self.egu = builder.stringIn(name + ":EGU", initial_value="mm")
        self.prec = builder.longIn(name + ":PREC", initial_value=3)
        self.stop = builder.boolOut(
            name + ":STOP", initial_value=0, always_update=True, on_update=self._on_stop
        )
        self.val = builder.aOut(
            name + ":VAL",
            initial_value=0.0,
            EGU="mm",
            PREC=3,
            DRVL=-1e9,
            DRVH=1e9,
            blocking=hold_put,
            always_update=True,
            validate=self._within_limits,
            on_update=self._move,
        )

    def _within_limits(self, _record: Any, value: float) -> bool:
        return bool(self.llm.get() <= value <= self.hlm.get())

    def _on_stop(self, value: int) -> None:
        if value:
            self._stop_requested = True

    async def _move(self, target: float) -> None:
        self._generation += 1
        generation = self._generation
        self._stop_requested = False
        _IOC_ONLY.set(self.dmov, 0)
        _IOC_ONLY.set(self.movn, 1)
        start = self.rbv.get()
        velocity = max(abs(self.velo.get()), 1e-6)
        duration = abs(target - start) / velocity
        t0 = time.monotonic()
        position = start
        try:
            while not self._stop_requested and generation == self._generation:
                frac = 1.0 if duration == 0 else min((time.monotonic() - t0) / duration, 1.0)
                position = start + (target - start) * frac
                _IOC_ONLY.set(self.rbv, position)
                if self._on_move is not None:
                    self._on_move(position)
                if frac >= 1.0:
                    break
                remaining = duration - (time.monotonic() - t0)
                await asyncio.sleep(min(0.01, max(remaining, 0.0)))
        finally:
            if generation == self._generation:  # not superseded by a newer move
                if self._stop_requested:  # the setpoint follows where the motor stopped
                    self.val.set(position, process=False)
                _IOC_ONLY.set(self.movn, 0)
                _IOC_ONLY.set(self.dmov, 1)


class _Scaler:
    """Records of one scaler: a put ``CNT=1`` counts for ``TP`` seconds."""

    def __init__(self, builder: Any, name: str, source: Any) -> None:
        self._source = source
        self.tp = builder.aOut(name + ":TP", initial_value=0.1, EGU="s", PREC=3, DRVL=0, DRVH=1e4)
        only = _IOC_ONLY.fields  # final counts are posted before CNT goes back to 0
        self.t = builder.aOut(name + ":T", initial_value=0.0, EGU="s", PREC=3, **only)
        self.s = [
            builder.longOut(f"{name}:S{i}", initial_value=0, EGU="counts", **only)
            for i in (1, 2, 3)
        ]
        self.nm = [
            builder.stringIn(f"{name}:NM{i}", initial_value=label)
            for i, label in zip((1, 2, 3), ("clock", "det", "bkg"), strict=True)
        ]
        self.cnt = builder.boolOut(
            name + ":CNT",
            initial_value=0,
            ZNAM="Done",
            ONAM="Count",
            always_update=True,
            on_update=self._count,
        )

    async def _count(self, value: int) -> None:
        if not value:
            return
        preset = max(self.tp.get(), 0.0)
        t0 = time.monotonic()
        rate_det = _peak(self._source())
        while True:
            elapsed = min(time.monotonic() - t0, preset)
            _IOC_ONLY.set(self.t, elapsed)
            _IOC_ONLY.set(self.s[0], int(1e7 * elapsed))
            _IOC_ONLY.set(self.s[1], int(rate_det * elapsed * 10))
            _IOC_ONLY.set(self.s[2], int(50 * elapsed * 10) + random.randint(0, 3))
            if elapsed >= preset:
                break
            await asyncio.sleep(min(0.02, preset - elapsed))
        self.cnt.set(0)


def _build(builder: Any, softioc: Any, prefix: str, extra_pvs: int = 0) -> dict[str, Any]:
    """Create every record of the demo IOC under ``prefix`` (and ``extra_pvs`` ``pv:N``)."""
    p = prefix
    records: dict[str, Any] = {}
    for i in range(extra_pvs):
        records[f"pv:{i}"] = builder.aIn(f"{p}pv:{i}", initial_value=float(i), EGU="V", PREC=3)
    alarm = {"HIHI": 9.0, "HHSV": "MAJOR", "HIGH": 8.0, "HSV": "MINOR"}
    alarm |= {"LOW": -8.0, "LSV": "MINOR", "LOLO": -9.0, "LLSV": "MAJOR"}
    only = _IOC_ONLY.fields
    ai = builder.aOut(
        p + "ai", initial_value=0.0, EGU="V", PREC=2, DRVL=-10, DRVH=10, **alarm, **only
    )
    records["ai"] = ai
    records["ao"] = builder.aOut(
        p + "ao",
        initial_value=0.0,
        EGU="V",
        PREC=2,
        DRVL=-10.0,
        DRVH=10.0,
        **alarm,
        blocking=True,
        on_update=lambda value: _IOC_ONLY.set(ai, value),
    )
    bi = builder.boolOut(p + "bi", initial_value=0, ZNAM="Off", ONAM="On", **only)
    records["bo"] = builder.boolOut(
        p + "bo",
        initial_value=0,
        ZNAM="Off",
        ONAM="On",
        blocking=True,
        on_update=lambda value: _IOC_ONLY.set(bi, value),
    )
    records["wf"] = builder.WaveformOut(p + "wf", [float(i) for i in range(32)], EGU="counts")
    records["str"] = builder.stringOut(p + "str", initial_value="hello")

    fast = builder.aOut(p + "fast", initial_value=0, PREC=0, DRVL=0, DRVH=1e12, **only)
    records["fast"] = fast
    records["fast:PERIOD"] = builder.aOut(
        p + "fast:PERIOD", initial_value=0.0, EGU="s", PREC=4, DRVL=0, DRVH=10
    )

    det = builder.aOut(p + "det", initial_value=_peak(0.0), EGU="counts", PREC=1, **only)
    records["det"] = det

    def _det_follows(x: float) -> None:
        _IOC_ONLY.set(det, _peak(x) + random.gauss(0.0, 2.0))

    m1 = _Motor(builder, p + "m1", hold_put=True, on_move=_det_follows)
    m2 = _Motor(builder, p + "m2", hold_put=False)
    records["m1"], records["m2"] = m1, m2
    records["scaler1"] = _Scaler(builder, p + "scaler1", source=m1.rbv.get)

    with tempfile.NamedTemporaryFile("w", suffix=".db", delete=False) as db:
        db.write(_CALC_DB)
    try:
        softioc.dbLoadDatabase(db.name, substitutions=f"P={p}")
    finally:
        os.unlink(db.name)
    return records


def _drive_fast(fast: Any, period: Any) -> None:
    """Count ``fast`` up once per ``period`` seconds while the period is positive.

    Runs in a thread of its own (an event loop wakes about once a millisecond at best),
    so updates are spread out in time as a fast-scanning record's would be.
    """
    count = 0
    while True:
        dt = period.get()
        if dt <= 0:
            time.sleep(0.05)
            continue
        count += 1
        _IOC_ONLY.set(fast, count)
        time.sleep(dt)


def run(
    prefix: str = DEFAULT_PREFIX, port: int = DEFAULT_PORT, interface: str = "", extra_pvs: int = 0
) -> None:
    """Serve the demo IOC in this process until SIGINT or SIGTERM (does not return)."""
    os.environ.update(ioc_env(port, interface))
    from softioc import asyncio_dispatcher, builder, softioc

    dispatcher = asyncio_dispatcher.AsyncioDispatcher()
    records = _build(builder, softioc, prefix, extra_pvs)
    builder.LoadDatabase()
    softioc.iocInit(dispatcher, enable_pva=False)
    threading.Thread(
        target=_drive_fast,
        args=(records["fast"], records["fast:PERIOD"]),
        name="fast-record",
        daemon=True,
    ).start()
    print(f"{READY_MARK} prefix={prefix} port={port} pid={os.getpid()}", flush=True)
    softioc.non_interactive_ioc()


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """Add the demo IOC's options to ``parser`` (a new one when ``None``)."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog="python -m cielo.plugins.epics.demo_ioc",
            description="Serve cielo's demo EPICS IOC (motors, detector, scaler, calc, waveform).",
        )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"Channel Access server port (default {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"PV name prefix (default {DEFAULT_PREFIX!r})"
    )
    parser.add_argument(
        "--interface",
        default="",
        metavar="ADDR",
        help="serve on this address only, e.g. 127.0.0.1 (default: every interface, "
        "so clients with the default EPICS settings find it)",
    )
    parser.add_argument(
        "--extra-pvs",
        type=int,
        default=0,
        metavar="N",
        help="also serve N analog inputs PREFIX pv:0 .. pv:N-1 (for benchmarks)",
    )
    parser.add_argument("--list", action="store_true", help="print the PV names and exit")
    return parser


def _port_taken(port: int, interface: str = "") -> bool:
    """Whether a server already listens on TCP ``port`` (of ``interface``, or any).

    EPICS would start anyway on another TCP port, sharing the UDP port: two IOCs with
    the same PVs, and clients warned of duplicates.
    """
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((interface, port))
        except OSError:
            return True
    return False


def run_from_args(args: argparse.Namespace) -> int:
    """Run (or list) the demo IOC as parsed by :func:`build_parser`."""
    if args.list:
        extra = [f"{args.prefix}pv:{i}" for i in range(max(args.extra_pvs, 0))]
        print("\n".join(pv_names(args.prefix) + extra))
        return 0
    if not 0 < args.port < 65536:
        print(f"error: --port {args.port} is not a TCP/UDP port (1-65535)", file=sys.stderr)
        return 2
    if _port_taken(args.port, args.interface):
        print(
            f"error: port {args.port} is already served (is a demo IOC already running?); "
            "stop that IOC, or give this one another port with --port N",
            file=sys.stderr,
        )
        return 2
    try:
        import softioc  # noqa: F401
    except ImportError:
        print(
            "error: the demo IOC needs pythonSoftIOC: pip install 'cielo[epics]' (or softioc)",
            file=sys.stderr,
        )
        return 2
    if args.extra_pvs < 0:
        print(f"error: --extra-pvs {args.extra_pvs} must be 0 or more", file=sys.stderr)
        return 2
    run(args.prefix, args.port, args.interface, args.extra_pvs)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m cielo.plugins.epics.demo_ioc [--port P] [--prefix X]``."""
    return run_from_args(build_parser().parse_args(argv))
