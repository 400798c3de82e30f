"""Lingering before a stream read while the CPUs are saturated: fewer, larger batches.

A stage that reads a stream (the engine its journal, settlement a market's events) takes what is
there each time it wakes. When commands arrive one at a time, as they do behind a gateway that
is itself short of CPU, every wake handles one command and pays a batch's whole fixed cost
(a read, a fenced write, their replies, the event loop's wake-up): on 2 cores under the gRPC
benchmark the engine, settlement and Redis spent 0.6 ms of CPU per order at about one order per
batch, against 0.15 ms over HTTP at about ten. That CPU is taken from the gateway, which is the
bottleneck.

So after a batch that did not fill its read, and only while the CPUs are saturated, the stage
waits `LINGER_MS` before its next read: what arrives meanwhile is read as one batch. Saturation
is read from Linux's pressure stall information (PSI): the share of wall time in which some
runnable task waited for a CPU, of the process's cgroup (cgroup v2) when it has one, else of the
host. It turns lingering on at `LINGER_ON_PRESSURE` and off below `LINGER_OFF_PRESSURE`: while
there is CPU to spare, a wait would only add latency (a client waiting for its answer before it
sends the next order gets fewer orders through), so there is none. A command waits at most
`LINGER_MS` longer per stage; a full read (a backlog) never waits, nor does a read after an idle
one; without PSI (another OS, an old kernel) nothing ever waits.
"""

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from exchange_core.config import CommonSettings

# Where the CPU pressure is read: the process's own cgroup (v2) first, then the host's.
PRESSURE_FILES = ("/sys/fs/cgroup/cpu.pressure", "/proc/pressure/cpu")


class LingerSettings(CommonSettings):
    """LINGER_MS, LINGER_ON_PRESSURE, LINGER_OFF_PRESSURE (see the module)."""

    linger_ms: float = 2.0
    linger_on_pressure: float = 0.4
    linger_off_pressure: float = 0.25


def some_stall_us(text: str) -> int:
    """The `total` (microseconds) of the `some` line of a PSI file's `text`."""
    for line in text.splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                name, _, value = field.partition("=")
                if name == "total":
                    return int(value)
    raise ValueError(f"no 'some ... total=' line in {text!r}")


class CpuPressure:
    """The share (0-1) of wall time in which some runnable task waited for a CPU, measured over
    windows of at least `window_s` from a PSI file (`path`; None: no PSI, always None)."""

    def __init__(
        self, path: str | None, window_s: float = 0.5, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.path = Path(path) if path else None
        self.window_s = window_s
        self.clock = clock
        self._at = 0.0
        self._total = -1
        self._share: float | None = None

    def __call__(self) -> float | None:
        """The last complete window's share; None before one has passed or without PSI (0.0
        once, when the file stops being readable)."""
        if self.path is None:
            return None
        now = self.clock()
        if self._total >= 0 and now - self._at < self.window_s:
            return self._share
        try:
            total = some_stall_us(self.path.read_text())
        except (OSError, ValueError):
            self.path = None  # unreadable now: it will not come back
            self._share = None
            return 0.0  # one last reading of no pressure: a Linger that was on turns off
        if self._total >= 0 and now > self._at:
            self._share = (total - self._total) / 1e6 / (now - self._at)
        self._at, self._total = now, total
        return self._share


def pressure_file() -> str | None:
    """The PSI file of this process's CPU pressure (see PRESSURE_FILES), or None."""
    for path in PRESSURE_FILES:
        try:
            some_stall_us(Path(path).read_text())
        except (OSError, ValueError):
            continue
        return path
    return None


class Linger:
    """How long to wait before the next read, after a read of `read` entries out of `limit`
    asked for (see the module): `seconds` while the pressure is on, else 0."""

    def __init__(self, seconds: float, pressure: Callable[[], float | None], on: float, off: float) -> None:
        self.seconds = seconds
        self.pressure = pressure
        self.on = on
        self.off = off
        self.active = False
        self.lingered = 0  # reads waited for

    def delay(self, read: int, limit: int) -> float:
        if self.seconds <= 0 or read <= 0 or read >= limit:
            return 0.0
        share = self.pressure()
        if share is not None:
            if share >= self.on:
                self.active = True
            elif share < self.off:
                self.active = False
        if not self.active:
            return 0.0
        self.lingered += 1
        return self.seconds


def cpu_pressure(settings: LingerSettings) -> CpuPressure:
    """This process's CPU pressure, read only when `settings` linger at all."""
    return CpuPressure(pressure_file() if settings.linger_ms > 0 else None)


def linger(settings: LingerSettings, pressure: Callable[[], float | None] | None = None) -> Linger:
    """The Linger of a stage configured by `settings`, on `pressure` (a CpuPressure of its own
    when None; several stages of one process may share one)."""
    return Linger(
        settings.linger_ms / 1000,
        pressure if pressure is not None else cpu_pressure(settings),
        settings.linger_on_pressure,
        settings.linger_off_pressure,
    )


class LingeredCollector(Collector):
    """The counter `name` of the reads each market's stage delayed (`lingers`: by symbol),
    labelled with the symbol."""

    def __init__(self, name: str, lingers: dict[str, Linger]) -> None:
        self.name = name
        self.lingers = lingers

    def collect(self) -> Iterable[Metric]:
        family = CounterMetricFamily(
            self.name, "Reads delayed by LINGER_MS while the CPUs were saturated.", labels=["symbol"]
        )
        for symbol, lingering in self.lingers.items():
            family.add_metric([symbol], lingering.lingered)
        yield family
