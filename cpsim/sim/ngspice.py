"""The only module that touches PySpice and ngspice.

PySpice 1.5 (the newest on PyPI) was written for ngspice <= 34. With the ngspice
39+ that current distributions ship it (a) logs "Unsupported Ngspice version" and
(b) treats every stderr line not starting with ``Warning:`` as a failed command, so
harmless notes such as ``Note: ... dc value used for op`` make a completed run raise
(PySpice issues #379, #392, #399). :class:`NgspiceSession` replaces PySpice's
stderr handler with a classifier: known-harmless lines are logged at DEBUG, lines
that mean a real failure are collected and turned into :class:`SimulationError`
carrying ngspice's own text.

ngspice's shared library has process-global state, so there is one session per
process (:func:`session`); run parallel simulations in separate processes.
"""

from __future__ import annotations

import logging
import os
import re
import threading

import numpy as np

from ..errors import NgspiceNotFoundError, SimulationError

__all__ = ["NgspiceSession", "session", "INSTALL_HINT"]

_log = logging.getLogger(__name__)

INSTALL_HINT = (
    "install it: Debian/Ubuntu `sudo apt-get install libngspice0-dev`, "
    "macOS `brew install libngspice`, conda `conda install -c conda-forge ngspice`; "
    "or point NGSPICE_LIBRARY_PATH at libngspice.so"
)

# stderr lines ngspice prints on successful runs. Anything else on stderr is an error.
_HARMLESS = re.compile(
    r"^\s*(?:$|note:|warning:|using sparse|using klu|doanalyses:|"
    r"\*\*\*\*|circuit:|reference value|no\. of data rows|"
    r"(?:trying )?gmin stepping|(?:trying )?source stepping|supplies reduced|"
    r"initial transient solution|transient solution|"
    r"ngspice-\d|\*\* ngspice|\*\* compiled|\*\* creation|"
    r"\(note: .*\)|option .* ignored)",
    re.IGNORECASE,
)
# stdout lines that mean the circuit or the run failed (ngspice reports some errors on stdout).
_STDOUT_ERROR = re.compile(
    r"(?:^|\s)(?:error|fatal)\b|timestep too small|singular matrix|unknown (?:subckt|model|parameter)|"
    r"could not find|run simulation\(s\) aborted|no such vector",
    re.IGNORECASE,
)
_STDOUT_IGNORE = re.compile(r"^\s*(?:warning:|note:)", re.IGNORECASE)


def _load_pyspice_shared():
    """Import PySpice's shared-library wrapper, quietening its version complaint."""
    # PySpice logs "Unsupported Ngspice version 39" at WARNING for every ngspice > 34;
    # the API it uses is unchanged, so the message is noise for our users.
    logging.getLogger("PySpice").setLevel(logging.ERROR)
    from PySpice.Spice.NgSpice import Shared as shared_module

    return shared_module


class NgspiceSession:
    """One ngspice shared-library instance with honest error reporting.

    Use :func:`session` to get the process-wide instance rather than constructing one.
    """

    def __init__(self) -> None:
        shared_module = _load_pyspice_shared()
        base = shared_module.NgSpiceShared
        ffi = shared_module.ffi
        self._ffi = ffi
        self._lock = threading.Lock()
        self._errors: list[str] = []
        self._transcript: list[str] = []
        errors, transcript = self._errors, self._transcript

        class _Shared(base):  # type: ignore[misc,valid-type]  # PySpice's class, known at run time
            @staticmethod
            def _send_char(message_c, ngspice_id, user_data):
                message = ffi.string(message_c).decode("utf-8", "replace")
                stream, _, content = message.partition(" ")
                transcript.append(content)
                if stream == "stderr":
                    if _HARMLESS.match(content):
                        _log.debug("ngspice: %s", content)
                    else:
                        errors.append(content)
                        _log.debug("ngspice error: %s", content)
                elif _STDOUT_ERROR.search(content) and not _STDOUT_IGNORE.match(content):
                    errors.append(content)
                return 0

        base.setup_platform()
        if os.environ.get("NGSPICE_LIBRARY_PATH"):
            base.LIBRARY_PATH = os.environ["NGSPICE_LIBRARY_PATH"]
        try:
            self._shared = _Shared(ngspice_id=0, send_data=False)
        except OSError as exc:
            raise NgspiceNotFoundError(
                f"ngspice shared library not found ({base.LIBRARY_PATH.format('')}): {INSTALL_HINT}"
            ) from exc
        self._transcript.clear()
        self._command("version -f")
        found = re.search(r"ngspice-(\d+)", self.log)
        self.version: int | None = int(found.group(1)) if found else None
        self._errors.clear()

    # -- low level -------------------------------------------------------------------------
    def _command(self, command: str) -> None:
        rc = self._shared._ngspice_shared.ngSpice_Command(command.encode("ascii"))
        if rc:
            raise SimulationError(f"ngspice command {command!r} returned {rc}", log=self.log)

    @property
    def log(self) -> str:
        """ngspice's messages from the last :meth:`run`."""
        return "\n".join(self._transcript)

    def _load(self, netlist: str) -> None:
        lines = [line for line in netlist.splitlines() if line.strip()]
        lines.append("")
        keep = [self._ffi.new("char[]", line.encode("ascii")) for line in lines]
        keep.append(self._ffi.NULL)
        rc = self._shared._ngspice_shared.ngSpice_Circ(self._ffi.new("char *[]", keep))
        if rc or self._errors:
            raise SimulationError("ngspice rejected the netlist", log="\n".join(self._errors) or self.log)

    def _vectors(self) -> dict[str, np.ndarray]:
        lib = self._shared._ngspice_shared
        plot = self._ffi.string(lib.ngSpice_CurPlot()).decode()
        names_c = lib.ngSpice_AllVecs(plot.encode())
        out: dict[str, np.ndarray] = {}
        i = 0
        while names_c[i] != self._ffi.NULL:
            name = self._ffi.string(names_c[i]).decode()
            info = lib.ngGet_Vec_Info(f"{plot}.{name}".encode())
            n = info.v_length
            if info.v_realdata != self._ffi.NULL:
                buf = self._ffi.buffer(info.v_realdata, n * 8)
                try:
                    out[name.lower()] = np.frombuffer(buf, dtype=np.float64).copy()
                except MemoryError as exc:
                    raise SimulationError(f"not enough memory to copy {n} points of {name}: "
                                          "simulate fewer periods or a coarser sample interval") from exc
            i += 1
        return out

    # -- public ----------------------------------------------------------------------------
    def run(self, netlist: str) -> dict[str, np.ndarray]:
        """Load ``netlist`` (which contains its analysis card), run it, return every real vector.

        Vector names are lower case, e.g. ``"time"``, ``"cp_evse"``, ``"v(xveh.n1)"``.

        Raises
        ------
        SimulationError
            With ngspice's own messages when the netlist is rejected, the run fails or
            produces no data.
        """
        with self._lock:
            self._errors.clear()
            self._transcript.clear()
            try:
                self._load(netlist)
                self._command("run")
                if self._errors:
                    raise SimulationError("ngspice run failed", log="\n".join(self._errors))
                vectors = self._vectors()
            finally:
                # Free the plot and the circuit so a long batch does not accumulate them.
                self._shared._ngspice_shared.ngSpice_Command(b"destroy all")
                self._shared._ngspice_shared.ngSpice_Command(b"remcirc")
            if not vectors:
                raise SimulationError("ngspice produced no output vectors", log=self.log)
            return vectors


_SESSION: NgspiceSession | None = None
_SESSION_PID: int | None = None


def session() -> NgspiceSession:
    """The process-wide ngspice session (created on first use; one per process)."""
    global _SESSION, _SESSION_PID
    if _SESSION is None or _SESSION_PID != os.getpid():
        _SESSION = NgspiceSession()
        _SESSION_PID = os.getpid()
    return _SESSION
