"""SPEC file export: the primary stream as one SPEC scan, for PyMCA, silx and friends."""

from __future__ import annotations

import time
from typing import IO, Any

from cielo.storage import Suitcase, path_inside

__all__ = ["SpecSuitcase"]

Document = dict[str, Any]


def _date(t: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(float(value)) if isinstance(value, float) else str(value)
    return "nan"


class SpecSuitcase(Suitcase):
    """A run as a SPEC file (``.spec``): file header with the motor names (``#O``), one
    scan (``#S scan_id``) with the motor positions before the scan (``#P``, from the
    ``baseline`` stream) and one column per scalar data key of the ``primary`` stream
    (``#L``: scanned motors first, ``Epoch`` seconds since the run started, then the
    detectors, the main detector last).

    :param directory: folder of the files. :param file_template: name over run-start keys.
    :param stream: the stream written as the scan (default ``primary``).
    :param append: add the scan to the end of ``<name>.spec`` when it exists (with a
        template naming one file for many runs, e.g. ``"{proposal}"``), as SPEC itself
        does; each scan is preceded by its own file header (``#F``, ``#E``, ``#O``).
    """

    kind = "spec"

    def __init__(
        self, start: Document, *, stream: str = "primary", append: bool = False, **params: Any
    ) -> None:
        self.stream = stream
        self.append = append
        self._file: IO[str] | None = None
        self._descriptor: Document | None = None
        self._columns: list[str] = []
        self._positions: dict[str, float] = {}
        self._baseline: set[str] = set()
        self._header_written = False
        super().__init__(start, **params)

    def start(self, doc: Document) -> None:
        if self.append:
            self.path = path_inside(self.directory, f"{self.stem}.spec")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.artifacts.setdefault("spec", []).append(self.path)
            self._file = open(self.path, "a", encoding="utf-8")
            if self._file.tell():
                self._file.write("\n")  # a blank line before the next file header
        else:
            self.path = self.new_file(".spec", "spec")
            self._file = open(self.path, "w", encoding="utf-8")

    def descriptor(self, doc: Document) -> None:
        name = doc.get("name", "primary")
        if name == "baseline":
            self._baseline.add(doc["uid"])
        elif name == self.stream and self._descriptor is None:
            self._descriptor = doc
            scalar = [
                k for k, v in doc["data_keys"].items()
                if not v.get("shape") and not v.get("external") and v.get("dtype") != "string"
            ]  # fmt: skip
            dims = [
                f for fields, stream in self.start_doc.get("hints", {}).get("dimensions", [])
                if stream == self.stream for f in fields if f in scalar
            ]  # fmt: skip
            motors = dims or [m for m in self.start_doc.get("motors", []) if m in scalar]
            hinted = [
                f for obj, hint in (doc.get("hints") or {}).items() if obj not in motors
                for f in hint.get("fields", []) if f in scalar and f not in motors
            ]  # fmt: skip
            others = [k for k in scalar if k not in motors and k not in hinted]
            self._columns = [*motors, *others, *hinted]

    def event(self, doc: Document) -> None:
        if doc["descriptor"] in self._baseline:
            if not self._positions:
                self._positions = {
                    k: float(v) for k, v in doc["data"].items() if isinstance(v, (int, float))
                }
            return
        if self._descriptor is None or doc["descriptor"] != self._descriptor["uid"]:
            return
        if not self._header_written:
            self._write_header()
        assert self._file is not None
        data = doc["data"]
        epoch = doc["time"] - self.start_doc["time"]
        values = [_number(data.get(k)) for k in self._columns]
        n_motors = len(self._motor_columns)
        values.insert(n_motors, f"{epoch:.6f}")
        self._file.write(" ".join(values) + "\n")

    @property
    def _motor_columns(self) -> list[str]:
        motors = set(self.start_doc.get("motors", []))
        dims = {
            f for fields, _ in self.start_doc.get("hints", {}).get("dimensions", []) for f in fields
        }
        return [c for c in self._columns if c in motors or c in dims]

    def _write_header(self) -> None:
        assert self._file is not None
        start = self.start_doc
        t = start["time"]
        names = list(self._positions)
        lines = [
            f"#F {self.path.name}",
            f"#E {int(t)}",
            f"#D {_date(t)}",
            f"#C cielo run {start['uid']}",
        ]
        for i in range(0, len(names), 8):
            lines.append(f"#O{i // 8} " + "  ".join(names[i : i + 8]))
        motors = " ".join(str(m) for m in start.get("motors", []))
        lines += [
            "",
            f"#S {start.get('scan_id', 0)}  {start.get('plan_name', 'run')} {motors}".rstrip(),
        ]
        lines.append(f"#D {_date(t)}")
        for i in range(0, len(names), 8):
            lines.append(
                f"#P{i // 8} " + " ".join(_number(self._positions[n]) for n in names[i : i + 8])
            )
        labels = list(self._columns)
        labels.insert(len(self._motor_columns), "Epoch")
        lines += [f"#N {len(labels)}", "#L " + "  ".join(labels)]
        self._file.write("\n".join(lines) + "\n")
        self._header_written = True

    def stop(self, doc: Document) -> None:
        if self._file is not None and not self._header_written:
            self._write_header()
        if self._file is not None and doc.get("exit_status") not in (None, "success"):
            self._file.write(f"#C run ended: {doc.get('exit_status')} {doc.get('reason', '')}\n")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
