"""Process-level tuning shared by the long-running services."""

import gc


def tune_gc() -> None:
    """Move what start-up allocated out of the collector's sight and collect young objects less
    often: hot loops allocate many short-lived objects and almost no cycles."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
