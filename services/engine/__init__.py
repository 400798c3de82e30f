"""The per-symbol engine process: consumes cmd:{SYMBOL}, runs the matching core, writes events."""
