"""Which processes make up the exchange on one machine, shared by `make run` (launcher.__main__)
and the tests' running_stack: one engine per market, settlement, the gateway, and the optional
WebSocket tier, DB processor and market maker."""

import importlib.util
from dataclasses import dataclass, field

from launcher.supervisor import Supervisor

GATEWAY = "gateway"
WS = "ws"
DBWRITER = "dbwriter"
MARKETMAKER = "marketmaker"
ENGINE_GROUP = "engine"


def engine_name(symbol: str) -> str:
    """The service name of a market's engine, also its consumer name in the `engine` group."""
    return f"engine-{symbol}"


def module_available(module: str) -> bool:
    """Whether `python -m module` can run here: the package and its __main__ are importable."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ImportError:
        return False


@dataclass
class Layout:
    """The processes to start. `ws_port` is given to the WebSocket tier as PORT and WS_PORT (the
    shared environment's PORT is the gateway's); `marketmaker_env` holds the bot's API key and
    gateway address, None for no market maker."""

    symbols: list[str]
    ws_port: int | None = None
    dbwriter: bool = False
    marketmaker_env: dict[str, str] | None = None
    # METRICS_PORT by service name, for the services without an HTTP port of their own.
    metrics_ports: dict[str, int] = field(default_factory=dict)

    def probed(self) -> list[str]:
        """The services that serve /metrics on a METRICS_PORT: engines, settlement, and the DB
        processor and market maker when present."""
        names = [engine_name(s) for s in self.symbols] + ["settlement"]
        if self.dbwriter:
            names.append(DBWRITER)
        if self.marketmaker_env is not None:
            names.append(MARKETMAKER)
        return names


def add_services(supervisor: Supervisor, layout: Layout) -> None:
    """Register every process of `layout` with `supervisor` (not started). Engines come first
    and the market maker last: start_all starts them in this order."""

    def metrics(name: str) -> dict[str, str]:
        port = layout.metrics_ports.get(name)
        return {"METRICS_PORT": str(port)} if port else {}

    for symbol in layout.symbols:
        name = engine_name(symbol)
        supervisor.add(name, "engine", SYMBOL=symbol, CONSUMER=name, **metrics(name))
    supervisor.add("settlement", "settlement", **metrics("settlement"))
    supervisor.add(GATEWAY, "gateway")
    if layout.ws_port is not None:
        port = str(layout.ws_port)
        supervisor.add(WS, "ws", PORT=port, WS_PORT=port)
    if layout.dbwriter:
        supervisor.add(DBWRITER, "dbwriter", **metrics(DBWRITER))
    if layout.marketmaker_env is not None:
        supervisor.add(MARKETMAKER, "marketmaker", **layout.marketmaker_env, **metrics(MARKETMAKER))


def stop_in_order(supervisor: Supervisor, grace_s: float = 10.0) -> None:
    """Stop the market maker first, while the gateway and engines still run (it cancels its
    quotes on SIGTERM), then everything else."""
    if MARKETMAKER in supervisor.services:
        supervisor.stop([MARKETMAKER], grace_s=max(grace_s, 20.0))
    supervisor.stop_all(grace_s)
