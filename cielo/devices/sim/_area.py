"""A simulated area detector writing 2D frames to HDF5, reported as stream documents.

It follows the convention of Bluesky and ophyd-async for step-scanned detectors that
write files: ``describe()`` gives the image key with ``external="STREAM:"`` and shape
``[1, height, width]`` (one frame per event); ``read()`` gives only the values held in
the event (the frame sum); after each trigger ``collect_asset_docs(index)`` yields a
``stream_resource`` (once per file) and a ``stream_datum`` covering the new frames, with
``descriptor`` empty and ``seq_nums`` ``{0, 0}`` for the RunEngine to fill in.
"""

from __future__ import annotations

import tempfile
import threading
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from cielo.core import DeviceError, Status, finished_status
from cielo.core.protocols import DataKey, Reading

from .._device import Cpt, Device
from .._kind import Kind
from .._signal import SoftSignal, SoftSignalR
from ._peak import position_of

__all__ = ["SimAreaDetector", "DATASET"]

#: Where frames go inside each file (the NeXus-style path areaDetector uses).
DATASET = "/entry/data/data"


class SimAreaDetector(Device):
    """A camera: each trigger writes one ``height × width`` frame to an HDF5 file.

    A new file is started on the first trigger after :meth:`stage` and closed by
    :meth:`unstage`; it is written in SWMR mode, so readers opening it with
    ``swmr=True`` (in this or another process) see each frame as soon as it is reported. Frames show a Gaussian spot whose brightness follows a peak over
    ``motors`` (when given) plus Poisson noise.

    Parameters
    ----------
    directory
        Where files are written (default: ``<tmp>/cielo-sim/<name>``).
    width, height
        Frame size in pixels.
    exposure
        Seconds each trigger takes.
    motors, center, sigma
        Optional: the brightness is ``exp(-sum((x-center)^2/(2 sigma^2)))`` over these
        motors' positions.
    amplitude
        Counts at the spot's centre at full brightness.
    seed
        Seed of the noise generator.
    """

    total = Cpt(SoftSignalR, 0.0, kind=Kind.hinted)
    exposure = Cpt(SoftSignal, 0.0, kind=Kind.config, units="s")

    def __init__(
        self,
        *,
        name: str = "",
        kind: Kind | str | int = Kind.normal,
        parent: Any = None,
        directory: str | None = None,
        width: int = 64,
        height: int = 48,
        exposure: float = 0.0,
        motors: Sequence[Any] = (),
        center: float = 0.0,
        sigma: float = 1.0,
        amplitude: float = 1000.0,
        seed: int | None = None,
    ) -> None:
        super().__init__(name=name, kind=kind, parent=parent)
        if width < 1 or height < 1:
            raise ValueError(f"{name}: frame size {width}x{height} must be at least 1x1")
        self.width, self.height = int(width), int(height)
        self._directory = Path(directory) if directory else None
        self.exposure.put(float(exposure))
        self._motors = list(motors)
        self._center, self._sigma, self._amplitude = float(center), float(sigma), float(amplitude)
        self._seed = seed
        self._rng: Any = None
        self._lock = threading.Lock()
        self._file: Any = None
        self._dataset: Any = None
        self._path: Path | None = None
        self._resource_uid: str | None = None
        self._index = 0
        self._emitted = 0
        self._resource_sent = False
        self._datum_counter = 0

    # -- files ---------------------------------------------------------------
    @property
    def directory(self) -> Path:
        """Where files are written (a change applies from the next file)."""
        default = Path(tempfile.gettempdir()) / "cielo-sim" / (self.name or "camera")
        return self._directory or default

    @directory.setter
    def directory(self, value: str | Path) -> None:
        self._directory = Path(value)

    @property
    def path(self) -> Path | None:
        """The file being written (``None`` before the first frame)."""
        return self._path

    def _open(self) -> None:
        import h5py  # heavy: only when a frame is written

        path = self.directory / f"{self.name or 'camera'}_{uuid.uuid4().hex[:12]}.h5"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._file = h5py.File(path, "w", libver="latest")
        except OSError as exc:
            raise DeviceError(
                f"{self.name or 'camera'}: cannot write frames to {str(self.directory)!r} "
                f"({exc}); give it a writable directory (parameter directory)"
            ) from exc
        self._path = path
        self._dataset = self._file.create_dataset(
            DATASET,
            shape=(0, self.height, self.width),
            maxshape=(None, self.height, self.width),
            chunks=(1, self.height, self.width),
            dtype="uint16",
        )
        self._file.swmr_mode = True  # readers (swmr=True) may follow while we write
        self._resource_uid = str(uuid.uuid4())
        self._index = self._emitted = self._datum_counter = 0
        self._resource_sent = False

    def close(self) -> None:
        """Close the current file (the next frame starts a new one)."""
        with self._lock:
            if self._file is not None:
                self._file.close()
            self._file = self._dataset = None

    def stage(self) -> Status:
        self.close()
        return super().stage()

    def unstage(self) -> Status:
        self.close()
        return super().unstage()

    # -- acquisition -----------------------------------------------------------
    def _frame(self) -> Any:
        import numpy as np

        if self._rng is None:
            self._rng = np.random.default_rng(self._seed)
        brightness = 1.0
        if self._motors:
            brightness = float(
                np.exp(
                    -sum((position_of(m) - self._center) ** 2 for m in self._motors)
                    / (2 * self._sigma**2)
                )
            )
        y, x = np.mgrid[0 : self.height, 0 : self.width]
        spot = np.exp(
            -(
                ((x - self.width / 2) / (self.width / 8)) ** 2
                + ((y - self.height / 2) / (self.height / 8)) ** 2
            )
            / 2
        )
        expected = 5.0 + self._amplitude * brightness * spot
        return np.clip(self._rng.poisson(expected), 0, 65535).astype("uint16")

    def _acquire(self) -> None:
        frame = self._frame()
        with self._lock:
            if self._file is None:
                self._open()
            n = self._dataset.shape[0]
            self._dataset.resize(n + 1, axis=0)
            self._dataset[n] = frame
            self._dataset.flush()
            self._index = n + 1
        self.total.update(float(frame.sum()))

    def trigger(self) -> Status:
        """Expose and write one frame; done after ``exposure`` s once it is on disk."""
        seconds = self.exposure.get()
        if seconds <= 0:
            self._acquire()
            return finished_status(self)
        status = Status(self)

        def _expose() -> None:
            try:
                self._acquire()
            except Exception as exc:
                status.set_exception(exc)
            else:
                status.set_finished()

        timer = threading.Timer(seconds, _expose)
        timer.daemon = True
        timer.start()
        return status

    # -- documents -------------------------------------------------------------
    def describe(self) -> dict[str, DataKey]:
        image: DataKey = {
            "source": f"sim://{self.name}",
            "dtype": "array",
            "dtype_numpy": "<u2",
            "shape": [1, self.height, self.width],
            "external": "STREAM:",
        }
        return {self.name: image, **super().describe()}

    def read(self) -> dict[str, Reading]:
        return super().read()  # the image itself is in the file, not in the event

    def get_index(self) -> int:
        """How many frames the current file holds."""
        return self._index

    def collect_asset_docs(self, index: int | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
        """``stream_resource`` (once per file) and ``stream_datum`` for frames not yet reported,
        up to ``index`` (default: all written)."""
        with self._lock:
            written = self._index if index is None else min(index, self._index)
            if written <= self._emitted or self._resource_uid is None:
                return
            docs: list[tuple[str, dict[str, Any]]] = []
            if not self._resource_sent:
                self._resource_sent = True
                docs.append(
                    (
                        "stream_resource",
                        {
                            "uid": self._resource_uid,
                            "data_key": self.name,
                            "mimetype": "application/x-hdf5",
                            "uri": f"file://localhost{Path(str(self._path)).resolve().as_posix()}",
                            "parameters": {
                                "dataset": DATASET,
                                "chunk_shape": [1, self.height, self.width],
                                "swmr": True,
                            },
                        },
                    )
                )
            docs.append(
                (
                    "stream_datum",
                    {
                        "uid": f"{self._resource_uid}/{self._datum_counter}",
                        "stream_resource": self._resource_uid,
                        "descriptor": "",
                        "indices": {"start": self._emitted, "stop": written},
                        "seq_nums": {"start": 0, "stop": 0},
                    },
                )
            )
            self._datum_counter += 1
            self._emitted = written
        yield from docs
