"""Which processes make up the exchange on one machine, shared by `make run` (launcher.__main__)
and the tests' running_stack: one engine per market, settlement workers, the gateway, and the optional
WebSocket tier, DB processor, market maker and market simulation."""

import importlib.util
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from launcher.supervisor import Supervisor

GATEWAY = "gateway"
WS = "ws"
DBWRITER = "dbwriter"
MARKETMAKER = "marketmaker"
MARKETSIM = "marketsim"
# API clients of the gateway, stopped first (they cancel their orders on SIGTERM).
BOTS = (MARKETMAKER, MARKETSIM)
ENGINE_GROUP = "engine"


def engine_name(symbol: str) -> str:
    """The service name of a market's engine."""
    return f"engine-{symbol}"


def worker_name(module: str, index: int) -> str:
    """The service name of worker `index` of `module`: "settlement", "settlement-1", ..."""
    return f"{module}-{index}" if index else module


def settlement_name(index: int) -> str:
    return worker_name("settlement", index)


# `make web` builds the web app here (the repository's web/dist).
BUILT_WEB_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"


def web_dir() -> str:
    """The web app the gateway serves: WEB_DIR from the environment, else web/dist when built, else
    "" (the gateway's small overview page)."""
    if "WEB_DIR" in os.environ:
        return os.environ["WEB_DIR"]
    return str(BUILT_WEB_DIR) if (BUILT_WEB_DIR / "index.html").is_file() else ""


def module_available(module: str) -> bool:
    """Whether `python -m module` can run here: the package and its __main__ are importable."""
    try:
        return importlib.util.find_spec(f"{module}.__main__") is not None
    except ImportError:
        return False


@dataclass
class Layout:
    """The processes to start. `ws_port` is given to the WebSocket tier as PORT and WS_PORT (the
    shared environment's PORT is the gateway's), and to the gateway as WS_PORT (for the web page);
    `web_dir` is the gateway's WEB_DIR (`make run` gives it web_dir()); `marketmaker_env` holds the
    bot's API key and gateway address, None for no market maker; `marketsim_env` the same for the
    market simulation (its agents' keys), None for none."""

    symbols: list[str]
    ws_port: int | None = None
    dbwriter: bool = False
    marketmaker_env: dict[str, str] | None = None
    web_dir: str = ""
    marketsim_env: dict[str, str] | None = None
    # METRICS_PORT by service name, for the services without an HTTP port of their own.
    metrics_ports: dict[str, int] = field(default_factory=dict)
    # Settlement workers and DB writers sharing the markets (each works on the markets whose
    # lease it holds).
    settlement_workers: int = 1
    dbwriter_workers: int = 1

    def probed(self) -> list[str]:
        """The services that serve /metrics on a METRICS_PORT: engines, settlement, and the DB
        processor, market simulation and market maker when present, in this order (the market
        maker, off by default beside the simulation, last: the others' ports do not depend on it)."""
        names = [engine_name(s) for s in self.symbols]
        names += [settlement_name(i) for i in range(self.settlement_workers)]
        if self.dbwriter:
            names += [worker_name(DBWRITER, i) for i in range(self.dbwriter_workers)]
        if self.marketsim_env is not None:
            names.append(MARKETSIM)
        if self.marketmaker_env is not None:
            names.append(MARKETMAKER)
        return names


def add_services(supervisor: Supervisor, layout: Layout) -> None:
    """Register every process of `layout` with `supervisor` (not started). Engines come first
    and the bots (market maker, market simulation) last: start_all starts them in this order."""

    def metrics(name: str) -> dict[str, str]:
        port = layout.metrics_ports.get(name)
        return {"METRICS_PORT": str(port)} if port else {}

    for symbol in layout.symbols:
        name = engine_name(symbol)
        supervisor.add(name, "engine", SYMBOL=symbol, **metrics(name))
    add_workers(supervisor, "settlement", layout.settlement_workers, metrics)
    gateway_env = {"WEB_DIR": layout.web_dir} if layout.web_dir else {}
    if layout.ws_port is not None:
        gateway_env["WS_PORT"] = str(layout.ws_port)
    supervisor.add(GATEWAY, "gateway", **gateway_env)
    if layout.ws_port is not None:
        port = str(layout.ws_port)
        supervisor.add(WS, "ws", PORT=port, WS_PORT=port)
    if layout.dbwriter:
        add_workers(supervisor, DBWRITER, layout.dbwriter_workers, metrics)
    if layout.marketmaker_env is not None:
        supervisor.add(MARKETMAKER, "marketmaker", **layout.marketmaker_env, **metrics(MARKETMAKER))
    if layout.marketsim_env is not None:
        supervisor.add(MARKETSIM, "marketsim", **layout.marketsim_env, **metrics(MARKETSIM))


def add_workers(
    supervisor: Supervisor, module: str, workers: int, metrics: Callable[[str], dict[str, str]]
) -> None:
    """`workers` processes of `module` sharing the markets (WORKERS, WORKER_INDEX)."""
    for index in range(workers):
        name = worker_name(module, index)
        supervisor.add(name, module, WORKERS=str(workers), WORKER_INDEX=str(index), **metrics(name))


def stop_in_order(supervisor: Supervisor, grace_s: float = 10.0) -> None:
    """Stop the bots first, while the gateway and engines still run (they cancel their orders on
    SIGTERM), then everything else."""
    bots = [name for name in BOTS if name in supervisor.services]
    if bots:
        supervisor.stop(bots, grace_s=max(grace_s, 20.0))
    supervisor.stop_all(grace_s)
