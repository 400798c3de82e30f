"""Shared by every service: the markets registry, unit conversion and the wire protocol."""
