"""matching.book.BookSide's price index: sorted keys, best price, levels by price (pure logic)."""

from bisect import bisect_left

import pytest
from librt.vecs import vec
from mypy_extensions import i64

from matching.book import NO_ASK, NO_BID, BookSide, _distinct, _insert, _position


def test_position_is_bisect_left_and_insert_is_list_insert() -> None:
    for keys in ([], [5], [1, 3, 3, 7], list(range(-40, 40, 3))):
        for key in range(-45, 45):
            at = bisect_left(keys, key)
            assert _position(vec[i64](keys), key) == at, (keys, key)
            assert list(_insert(vec[i64](keys), at, key)) == [*keys[:at], key, *keys[at:]]


@pytest.mark.parametrize("is_bid", [True, False])
def test_levels_in_the_middle_come_and_go_and_keys_stay_sorted(is_bid: bool) -> None:
    side = BookSide(is_bid)
    prices = [100, 90, 110, 95, 105, 100, 120, 80]
    for price in prices:
        level = side.level_at(price)
        assert side.levels[price] is level and level.units == price
    assert list(side.keys) == sorted(p if is_bid else -p for p in set(prices))
    assert [side.find(p) for p in side.prices_from_best()] == list(side.levels_from_best())
    assert side.find(101) is None and side.find(1) is None and side.find(999) is None
    assert side.best_level() is side.levels[side.best]
    assert side.best == (120 if is_bid else 80)
    for price in (95, 120, 80, 105):  # middle, then each end, then middle again
        side.remove_level(price, side.levels[price])
        assert price not in side.levels
    assert list(side.prices_from_best()) == ([110, 100, 90] if is_bid else [90, 100, 110])
    assert side.best == (110 if is_bid else 90)
    again = side.level_at(95)  # a spare level, given its new price
    assert again.units == 95 and side.levels[95] is again
    for price in (95, 110, 100, 90):
        side.remove_level(price, side.levels[price])
    assert list(side.keys) == [] and side.levels == {} and side.best == (NO_BID if is_bid else NO_ASK)


def test_distinct_prices_sorted_with_or_without_a_sort() -> None:
    assert list(_distinct(10, vec[i64]([10, 9, 9, 7]), True)) == [10, 9, 7]
    assert list(_distinct(7, vec[i64]([7, 8, 8, 10]), False)) == [7, 8, 10]
    assert list(_distinct(9, vec[i64]([10, 9, 7, 10]), True)) == [10, 9, 7]
    assert list(_distinct(8, vec[i64]([7, 8, 10, 7]), False)) == [7, 8, 10]
