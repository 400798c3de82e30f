"""settlement.batching.byte_bounded: a read's entries cut into consecutive runs of bounded events
bytes, every entry in exactly one run."""

from hypothesis import given
from hypothesis import strategies as st

from exchange_core.redisio import Entry
from settlement.batching import byte_bounded


def entries(sizes: list[int]) -> list[Entry]:
    return [(f"{i + 1}-0".encode(), {b"e": b"x" * size}) for i, size in enumerate(sizes)]


def sizes_of(run: list[Entry]) -> list[int]:
    return [len(fields[b"e"]) for _, fields in run]


def test_a_read_that_fits_is_one_run_and_not_copied() -> None:
    read = entries([10, 20, 30])
    (only,) = byte_bounded(read, 60)
    assert only is read


def test_runs_fill_up_to_the_bound_and_a_long_entry_is_alone() -> None:
    runs = list(byte_bounded(entries([10, 20, 30, 100, 5, 5, 40]), 50))
    assert [sizes_of(run) for run in runs] == [[10, 20], [30], [100], [5, 5, 40]]


def test_no_entries_no_runs() -> None:
    assert list(byte_bounded([], 10)) == []


@given(st.lists(st.integers(0, 300), max_size=40), st.integers(1, 400))
def test_every_entry_once_in_order_and_runs_bounded(sizes: list[int], bound: int) -> None:
    read = entries(sizes)
    runs = list(byte_bounded(read, bound))
    assert [entry for run in runs for entry in run] == read
    assert all(run for run in runs)
    for i, run in enumerate(runs):
        assert len(run) == 1 or sum(sizes_of(run)) <= bound
        if i + 1 < len(runs):  # a run ends only where the next entry would not fit
            assert sum(sizes_of(run)) + sizes_of(runs[i + 1])[0] > bound
