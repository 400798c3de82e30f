"""Browser tests that launch a stack of their own (a scenario file, the simulation alone).

Outside tests/browser on purpose: that package keeps Playwright's sync API running for all its
tests, and a stack's start and clean-up need an event loop of their own (`asyncio.run`), which
cannot be had while it runs. Here Playwright starts after the test's stack and stops before it.
"""
