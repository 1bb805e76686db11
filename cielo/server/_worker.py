"""The worker process: the "environment" that loads a profile and runs the queue's plans.

``python -m cielo.server._worker --profile P --socket PATH`` listens on a Unix socket,
loads the profile, takes the instrument's lock (:class:`~cielo.core.InstrumentLock`,
as ``cielo run`` does, so the two never drive the same instrument at once), builds one
RunEngine that stores runs exactly as ``cielo run`` does (the profile's suitcases and
catalog, through :func:`cielo.plans.subscribe_profile`) and runs the items the manager
sends. It sends heartbeats, state changes, item results and every document.

If the manager goes away the worker goes on (a running plan is not stopped) and accepts
the next manager's connection, greeting it with its state.

What plans print and what cielo logs (INFO and up: one line when a run starts, one when
it ends) reach the manager as console lines; nothing is printed per event.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import queue
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ._channel import LineSocket

__all__ = ["Worker", "main"]

logger = logging.getLogger("cielo.worker")

_CONTROL = ("pause", "resume", "stop", "abort", "halt")


class Worker:
    """One environment: a profile, its instrument lock and one RunEngine.

    :param profile: the profile's name or path.
    :param socket_path: where to listen for the manager.
    :param heartbeat: seconds between heartbeats.
    """

    def __init__(
        self,
        profile: str,
        socket_path: str | os.PathLike[str],
        *,
        heartbeat: float = 0.2,
        orphan_timeout: float = 60.0,
        standby: str | os.PathLike[str] | None = None,
    ):
        self.profile = profile
        self.socket_path = Path(socket_path)
        #: where a worker started ahead listens until it is told to open (then it moves
        #: its socket to ``socket_path``)
        self.standby = Path(standby) if standby is not None else None
        self.heartbeat = heartbeat
        #: idle this long without a manager, the worker closes its environment and exits
        self.orphan_timeout = orphan_timeout
        self._alone_since = time.monotonic()
        self.link: LineSocket | None = None
        self.commands: queue.Queue[dict[str, Any]] = queue.Queue()
        self.env_state = "initializing"
        self.running: dict[str, Any] | None = None  # the item being executed
        self.paused = False
        self.last_done: dict[str, Any] | None = None  # re-sent to a reconnecting manager
        self._requested: str | None = None  # stop, abort or halt, asked during the item
        self._runs: list[tuple[str, Any]] = []  # (run uid, scan id) of the item's runs
        self._open_runs: dict[str, str] = {}  # run uid -> "plan, scan N" (for its end line)
        self._stop = threading.Event()
        self._resuming = threading.Event()  # a resume was received, the plan not yet running
        self._running_again = threading.Event()
        self.RE: Any = None
        self.env: Any = None
        self._forms: dict[str, Any] | None = None  # the plugins' plan forms, once asked
        self.warm = standby is None  # a standby: once its imports are done

    # -- the channel -------------------------------------------------------------------

    def send(self, message: dict[str, Any]) -> None:
        link = self.link
        if link is not None and not link.closed:
            link.send(message)

    def state(self) -> dict[str, Any]:
        re_state = str(self.RE.state) if self.RE is not None else None
        return {
            "pid": os.getpid(),
            "environment_state": self.env_state,
            "re_state": re_state,
            "running_item_uid": (self.running or {}).get("item_uid"),
            "paused": self.paused,
            "warm": self.warm,
        }

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            old, self.link = self.link, LineSocket(conn)
            if old is not None:
                old.close()
            self.send({"type": "hello", "last_done": self.last_done, **self.state()})
            threading.Thread(target=self._read, args=(self.link,), daemon=True).start()

    def _read(self, link: LineSocket) -> None:
        while True:
            try:
                message = link.receive()
            except ValueError:
                continue  # not JSON: ignore the line
            if message is None:
                return
            cmd = message.get("cmd")
            if cmd == "form_check":  # beside a running plan, never waiting for it
                threading.Thread(target=self._form_check, args=(message,), daemon=True).start()
                continue
            if cmd == "resume" and self.paused:
                self._running_again.clear()
                self._resuming.set()
            elif cmd in _CONTROL and self._resuming.is_set():
                # asked right after a resume: act once the plan runs again
                self._running_again.wait(10.0)
            if cmd in _CONTROL and self._control_now(cmd, message):
                continue
            self.commands.put(message)

    def _control_now(self, cmd: str, message: dict[str, Any]) -> bool:
        """Handle pause/stop/abort/halt of a running plan from the reader thread (the main
        thread is inside ``RE(plan)``); ``False`` leaves the command to the main thread."""
        RE = self.RE
        if RE is None or self.running is None or self.paused:
            return False
        if cmd == "pause":
            RE.request_pause(defer=bool(message.get("defer")))
            return True
        if cmd in ("stop", "abort", "halt"):
            self._requested = cmd
            getattr(RE, cmd)()  # while running: a request, the main thread sees the end
            return True
        return False

    def _beat(self) -> None:
        closing = False
        while not self._stop.wait(self.heartbeat):
            link = self.link
            if link is not None and not link.closed:
                self._alone_since = time.monotonic()
                link.send({"type": "heartbeat", "time": time.time(), **self.state()})
            elif (
                not closing
                and self.running is None
                and time.monotonic() - self._alone_since > self.orphan_timeout
            ):  # no manager came back: do not hold the instrument forever
                closing = True
                self.commands.put({"cmd": "close"})

    # -- the environment ---------------------------------------------------------------

    def open(self) -> None:
        from cielo.bus import open_publisher
        from cielo.core import InstrumentLock, RunEngine, load_profile
        from cielo.plans import subscribe_profile

        self.send({"type": "environment", "state": "opening"})
        env = self.env = load_profile(self.profile)
        self.lock = InstrumentLock(
            env.profile.instrument, holder=f"cielo serve worker (profile {env.profile.name})"
        )
        self.lock.acquire()  # InstrumentBusy names the holder
        from ._devices import DeviceNames

        self.device_names = DeviceNames(env.devices)  # listed once, for every item
        self.subscribers = env.make_subscribers(callbacks=False)
        self.RE = RunEngine(plugin_manager=env.pm, handle_sigint=False)
        subscribe_profile(self.RE, self.subscribers)
        # the profile's [publish] bus, as `cielo run` honours it; closed after the engine
        self._publishing = contextlib.ExitStack()
        for publisher in self._publishing.enter_context(open_publisher(env)):
            self.RE.subscribe(publisher)
        self.RE.subscribe(self._document)
        self.RE.add_state_hook(self._state_changed)
        self.env_state = "idle"
        self.send({"type": "environment", "state": "open", **self.state()})

    def close(self) -> None:
        self.env_state = "closing"
        errors = []
        for closing in (
            getattr(self.RE, "close", None),
            getattr(getattr(self, "_publishing", None), "close", None),  # after the engine
            getattr(getattr(self, "subscribers", None), "close", None),
            getattr(getattr(self, "lock", None), "release", None),
        ):
            if closing is not None:
                try:
                    closing()
                except Exception as exc:
                    errors.append(f"{type(exc).__name__}: {exc}")
        self.env_state = "closed"
        self.send({"type": "environment", "state": "closed", "errors": errors})

    def _form_check(self, message: dict[str, Any]) -> None:
        """Run a plan's form check with the plugins this environment loaded; answer it."""
        from ._forms import form_check, plan_forms
        from ._store import QueueError

        reply: dict[str, Any] = {"type": "form_check", "id": message.get("id")}
        try:
            if self.env is None:
                raise QueueError("the environment is not open: no plugin to check the form")
            if self._forms is None:
                self._forms = plan_forms(self.env.pm)
            reply["summary"] = form_check(
                self._forms, message["name"], message.get("args", []), message.get("kwargs", {})
            )
        except QueueError as exc:
            reply["error"] = str(exc)
        except Exception as exc:  # a broken check: its words, the worker goes on
            reply["error"] = f"the form check of plan {message.get('name')!r} failed: {_why(exc)}"
        self.send(reply)

    def _document(self, name: str, doc: dict[str, Any]) -> None:
        if name == "start":
            self._runs.append((doc.get("uid", ""), doc.get("scan_id")))
            self._run_started(doc)
        elif name == "stop":
            self._run_ended(doc)
        self.send({"type": "document", "name": name, "doc": doc})

    def _run_started(self, start: dict[str, Any]) -> None:
        # The queue item's plan names the run (a plan that runs another, as xafs_scan runs
        # scans, would otherwise be told by its inner plan's name); the inner one follows.
        inner = str(start.get("plan_name", "plan"))
        item = str((self.running or {}).get("name") or inner)
        plan = item if item == inner else f"{item} ({inner})"
        what = f"{plan}, scan {start.get('scan_id', '?')}"
        self._open_runs[str(start.get("uid"))] = what
        logger.info("run %s started: %s", start.get("uid"), what)

    def _run_ended(self, stop: dict[str, Any]) -> None:
        uid = str(stop.get("run_start"))
        what = self._open_runs.pop(uid, "")
        counts = stop.get("num_events") or {}
        events = ", ".join(f"{n} {stream}" for stream, n in counts.items()) or "none"
        reason = f" ({stop['reason']})" if stop.get("reason") else ""
        logger.info(
            "run %s ended: %s%s; %s; events: %s",
            uid,
            stop.get("exit_status"),
            reason,
            what,
            events,
        )

    def _state_changed(self, new: Any, old: Any) -> None:
        if str(new) == "running" and self._resuming.is_set():
            self._resuming.clear()
            self._running_again.set()
        self.send({"type": "re_state", "state": str(new), "old": str(old)})

    # -- running items -----------------------------------------------------------------

    def run(self, item: dict[str, Any]) -> None:
        from cielo.plans import prepare_plan

        self.running, self.paused, self._requested, self._runs = item, False, None, []
        self.env_state = "executing_plan"
        self.send({"type": "item_started", "item_uid": item.get("item_uid")})
        if item.get("item_type") == "function":
            self._call(item)
            return
        try:  # as cielo run: parameters bound, devices connected, limits checked, no run yet
            # The check drives the plan without hardware: what it prints there is not the
            # run's output, and would show twice in the console.
            with _Console.muted():
                prepared = prepare_plan(
                    self.env,
                    item["name"],
                    item.get("args", []),
                    item.get("kwargs", {}),
                    devices=self.device_names,
                )
        except Exception as exc:
            self._done("failed", _why(exc), traceback.format_exc())
            return
        # every run start names the item, so a run a lost worker leaves open is found
        uid = item.get("item_uid")
        self._drive(lambda: self.RE(prepared(), queue_item_uid=uid))

    def _call(self, item: dict[str, Any]) -> None:
        """Run an allowed function (see :mod:`cielo.server._functions`)."""
        from ._functions import call_function

        try:
            value = call_function(self.env.functions, item)
        except Exception as exc:
            self._done("failed", _why(exc), traceback.format_exc())
            return
        self._done("completed", "", "", return_value=value)

    def _drive(self, call: Any) -> None:
        from cielo.core import EngineState, RunEngineInterrupted

        try:
            result = call()
        except RunEngineInterrupted as exc:
            if self.RE.state is EngineState.PAUSED:
                self.paused = True
                self.send({"type": "paused", "item_uid": (self.running or {}).get("item_uid")})
                return
            self._done(_INTERRUPTED.get(self._requested or "abort", "aborted"), str(exc), "")
            return
        except Exception as exc:
            self._done("failed", f"{type(exc).__name__}: {exc}", traceback.format_exc())
            return
        status = getattr(result, "exit_status", "success")
        if status == "success":
            self._done("stopped" if self._requested == "stop" else "completed", "", "")
        else:
            reason = getattr(result, "reason", "") or status
            kind = _INTERRUPTED.get(self._requested or "", "failed")
            self._done(kind, reason, "")

    def control_paused(self, cmd: str) -> None:
        """resume, stop, abort or halt the paused plan (in the main thread)."""
        if not self.paused:
            self.send({"type": "refused", "cmd": cmd, "msg": "no plan is paused"})
            return
        self.paused = False
        if cmd == "resume":
            self._drive(self.RE.resume)
            return
        self._requested = cmd
        self._drive(getattr(self.RE, cmd))

    def _done(self, exit_status: str, msg: str, tb: str, **extra: Any) -> None:
        try:
            self.RE.flush(5.0)  # the start documents of the item's runs are counted
        except Exception:
            pass
        item, self.running, self.paused = self.running, None, False
        self._alone_since = time.monotonic()  # an orphan waits for a manager to collect it
        self.env_state = "idle"
        self.last_done = {
            "type": "item_done",
            "item_uid": (item or {}).get("item_uid"),
            "exit_status": exit_status,
            "run_uids": [uid for uid, _ in self._runs],
            "scan_ids": [scan_id for _, scan_id in self._runs],
            "msg": msg,
            "traceback": tb,
            **extra,  # a function's return_value
        }
        self.send(self.last_done)

    # -- the process ---------------------------------------------------------------------

    def serve(self) -> int:
        """Listen, open the environment (a standby: once told to), run what the manager
        sends until ``close``."""
        listening = self.standby or self.socket_path
        if listening.exists():
            listening.unlink()
        listening.parent.mkdir(parents=True, exist_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(listening))
        os.chmod(listening, 0o600)
        listener.listen(4)
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        threading.Thread(target=self._beat, daemon=True).start()
        sys.stdout = _Console(sys.stdout, self, mutable=True)  # what plans and callbacks print
        sys.stderr = _Console(sys.stderr, self)
        _log_to(sys.stderr)
        try:
            if self.standby is not None:
                if not self._stand_by():
                    return 0
                os.replace(self.standby, self.socket_path)  # where a new manager looks
                listening = self.socket_path
            return self._serve_environment()
        finally:
            self._stop.set()
            listener.close()
            try:
                listening.unlink()
            except OSError:
                pass

    def _stand_by(self) -> bool:
        """Import what opening needs, then wait: ``True`` when told to open, ``False``
        when told to close."""
        self.env_state = "standby"
        try:
            _warm_up(self.profile)
        except Exception as exc:  # opening will say what is wrong
            print(f"cielo worker: warming up failed: {_why(exc)}", file=sys.stderr)
        self.warm = True
        self.send({"type": "standby", "warm": True})
        while True:
            cmd = self.commands.get().get("cmd")
            if cmd == "open":
                return True
            if cmd == "close":
                return False
            self.send({"type": "refused", "cmd": cmd, "msg": "the environment is not open"})

    def _serve_environment(self) -> int:
        try:
            self.open()
        except Exception as exc:
            self.env_state = "failed"
            self.send({"type": "environment", "state": "failed", "msg": _why(exc)})
            time.sleep(2 * self.heartbeat)  # let the manager read it
            return 2
        while True:
            message = self.commands.get()
            cmd = message.get("cmd")
            if cmd == "run" and self.running is None:
                self.run(message["item"])
            elif cmd == "run":
                self.send({"type": "refused", "cmd": cmd, "msg": "an item is running"})
            elif cmd in _CONTROL:
                self.control_paused(cmd)
            elif cmd == "close":
                if self.running is not None:
                    self.send({"type": "refused", "cmd": cmd, "msg": "an item is running"})
                    continue
                break
        self.close()
        return 0


def _log_to(stream: Any) -> None:
    """cielo's log records (INFO and up) as lines on ``stream`` (the console)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    root = logging.getLogger("cielo")
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)


def _warm_up(profile: str) -> None:
    """Import cielo's modules and the profile's plugins and what their hooks name (not
    building devices, not opening anything), so that opening only reads the profile."""
    import cielo.bus  # noqa: F401
    import cielo.plans  # noqa: F401
    from cielo.core import make_plugin_manager, read_profile
    from cielo.core.plugins import Registry

    from . import _devices  # noqa: F401

    prof = read_profile(profile)
    pm = make_plugin_manager(enable=prof.enable, disable=prof.disable)
    Registry(pm).collect_all()


_INTERRUPTED = {"stop": "stopped", "abort": "aborted", "halt": "halted"}


class _Console:
    """A text stream that writes to the worker's log and sends whole lines to the manager.
    What a thread writes inside :meth:`muted` is dropped (a plan's dry run)."""

    _local = threading.local()

    @classmethod
    @contextlib.contextmanager
    def muted(cls) -> Iterator[None]:
        """Drop what this thread writes meanwhile to a ``mutable`` console (stdout; other
        threads still print)."""
        cls._local.muted = True
        try:
            yield
        finally:
            cls._local.muted = False

    def __init__(self, stream: Any, worker: Worker, *, mutable: bool = False) -> None:
        self.mutable = mutable
        self.stream = stream
        self.worker = worker
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        if self.mutable and getattr(self._local, "muted", False):
            return len(text)
        self.stream.write(text)
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            self.worker.send({"type": "console", "time": time.time(), "text": line})
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _why(exc: BaseException) -> str:
    from cielo.core import CieloError

    return str(exc) if isinstance(exc, CieloError) else f"{type(exc).__name__}: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cielo.server._worker")
    parser.add_argument("--profile", required=True)
    parser.add_argument("--socket", required=True)
    parser.add_argument("--heartbeat", type=float, default=0.2)
    parser.add_argument("--orphan-timeout", type=float, default=60.0)
    parser.add_argument("--standby", default=None, help="wait on this socket until told to open")
    args = parser.parse_args(argv)
    worker = Worker(
        args.profile,
        args.socket,
        heartbeat=args.heartbeat,
        orphan_timeout=args.orphan_timeout,
        standby=args.standby,
    )
    return worker.serve()


if __name__ == "__main__":
    sys.exit(main())
