"""exchange_core.linger: when a stage waits before its next read, and the CPU pressure it reads.
Pure logic: a stand-in pressure and clock, PSI text written to a temporary file."""

from pathlib import Path

import pytest

from exchange_core.linger import CpuPressure, Linger, LingeredCollector, some_stall_us

PSI = "some avg10=1.00 avg60=2.00 avg300=3.00 total={some}\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"


class Pressure:
    def __init__(self) -> None:
        self.share: float | None = None
        self.asked = 0

    def __call__(self) -> float | None:
        self.asked += 1
        return self.share


def test_waits_after_a_partial_read_only_while_the_pressure_is_on() -> None:
    pressure = Pressure()
    linger = Linger(0.002, pressure, on=0.4, off=0.25)
    assert linger.delay(3, 1000) == 0.0  # no measure yet: no wait
    pressure.share = 0.39
    assert linger.delay(3, 1000) == 0.0
    pressure.share = 0.4
    assert linger.delay(3, 1000) == 0.002
    pressure.share = 0.3  # between the thresholds: stays on
    assert linger.delay(1, 1000) == 0.002
    pressure.share = None  # no new window: stays on
    assert linger.delay(1, 1000) == 0.002
    pressure.share = 0.24
    assert linger.delay(1, 1000) == 0.0
    pressure.share = 0.3  # between the thresholds: stays off
    assert linger.delay(1, 1000) == 0.0
    assert linger.lingered == 3


def test_never_waits_after_an_empty_or_a_full_read_or_when_off() -> None:
    pressure = Pressure()
    pressure.share = 0.9
    linger = Linger(0.002, pressure, on=0.4, off=0.25)
    assert linger.delay(0, 1000) == 0.0  # idle: the next command is read the moment it comes
    assert linger.delay(1000, 1000) == 0.0  # a backlog: read on at once
    assert pressure.asked == 0
    off = Linger(0.0, pressure, on=0.4, off=0.25)
    assert off.delay(5, 1000) == 0.0
    assert linger.lingered == 0 and off.lingered == 0


def test_some_stall_us_reads_the_some_line_total() -> None:
    assert some_stall_us(PSI.format(some=123456)) == 123456
    with pytest.raises(ValueError):
        some_stall_us("full avg10=0.00 total=7\n")


def test_cpu_pressure_is_the_stalled_share_of_each_window(tmp_path: Path) -> None:
    psi = tmp_path / "cpu.pressure"
    psi.write_text(PSI.format(some=1_000_000))
    now = [100.0]
    pressure = CpuPressure(str(psi), window_s=0.5, clock=lambda: now[0])
    assert pressure() is None  # the first reading only starts a window
    psi.write_text(PSI.format(some=1_300_000))
    now[0] = 100.2
    assert pressure() is None  # the window has not passed: not read again
    now[0] = 100.5
    assert pressure() == pytest.approx(0.6)  # 0.3 s stalled in 0.5 s
    psi.write_text(PSI.format(some=1_400_000))
    now[0] = 101.5
    assert pressure() == pytest.approx(0.1)


def test_cpu_pressure_without_psi_is_never_measured(tmp_path: Path) -> None:
    assert CpuPressure(None)() is None
    gone = CpuPressure(str(tmp_path / "missing"))
    assert gone() == 0.0  # no pressure: a Linger that was on turns off
    assert gone.path is None  # not tried again
    assert gone() is None


def test_a_linger_on_turns_off_when_the_pressure_file_goes(tmp_path: Path) -> None:
    psi = tmp_path / "cpu.pressure"
    psi.write_text(PSI.format(some=0))
    now = [0.0]
    linger = Linger(0.002, CpuPressure(str(psi), window_s=0.5, clock=lambda: now[0]), on=0.4, off=0.25)
    assert linger.delay(1, 10) == 0.0
    psi.write_text(PSI.format(some=900_000))
    now[0] = 1.0
    assert linger.delay(1, 10) == 0.002
    psi.unlink()
    now[0] = 2.0
    assert linger.delay(1, 10) == 0.0
    now[0] = 3.0
    assert linger.delay(1, 10) == 0.0


def test_the_lingered_reads_are_exported_as_a_counter() -> None:
    pressure = Pressure()
    pressure.share = 1.0
    linger = Linger(0.002, pressure, on=0.4, off=0.25)
    linger.delay(2, 10)
    idle = Linger(0.002, pressure, on=0.4, off=0.25)
    collector = LingeredCollector("exchange_engine_lingered_reads", {"BTCUSDT": linger, "ETHUSDT": idle})
    (family,) = collector.collect()
    assert family.name == "exchange_engine_lingered_reads"
    assert [(s.labels, s.value) for s in family.samples if s.name.endswith("_total")] == [
        ({"symbol": "BTCUSDT"}, 1),
        ({"symbol": "ETHUSDT"}, 0),
    ]
