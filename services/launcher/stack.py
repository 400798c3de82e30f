"""The exchange as real processes on one machine: one engine per market, settlement and the
gateway (uvicorn), supervised; optionally the WebSocket tier, the DB processor, the market maker
and the market simulation. Used by the end-to-end tests and the benchmarks (`make run` is
launcher.__main__)."""

import asyncio
import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet

from botkit.account import setup_marketmaker
from exchange_core.markets import load_markets
from launcher import health
from launcher.processes import GATEWAY, WS, Layout, add_services, module_available, stop_in_order
from launcher.supervisor import Supervisor
from marketsim.accounts import accounts_env, setup_agents
from marketsim.settings import agent_names, mixes_from_env

REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    url: str
    prefix: str
    supervisor: Supervisor
    symbols: list[str]
    log_dir: Path
    ws_url: str = ""
    # The market maker's API key (with_marketmaker=True).
    marketmaker_key: tuple[str, str] | None = None
    # The gateway's gRPC API, "127.0.0.1:PORT" (on a free port unless GRPC_PORT is given).
    grpc_target: str = ""
    # Base URL of every service's /metrics, /healthz and /readyz by service name (with_metrics=True).
    probe_urls: dict[str, str] = field(default_factory=dict)
    # The market simulation's API keys by agent (with_marketsim=True).
    marketsim_keys: dict[str, tuple[str, str]] = field(default_factory=dict)

    def logs(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.log_dir.glob("*.log")))


@contextmanager
def running_stack(
    database_url: str,
    prefix: str,
    symbols: list[str] | None = None,
    port: int = 0,
    *,
    with_ws: bool = False,
    with_dbwriter: bool = False,
    with_marketmaker: bool = False,
    with_marketsim: bool = False,
    with_metrics: bool = False,
    settlement_workers: int = 1,
    dbwriter_workers: int = 1,
    up_seconds: float = 30.0,
    **extra_env: str,
) -> Iterator[Stack]:
    """Start the stack, wait until the gateway answers, yield it, stop it. Logs go to a temp dir
    and are printed if anything fails.

    with_ws / with_dbwriter add `python -m ws` (on a free port: Stack.ws_url) and `python -m
    dbwriter`; with_marketmaker sets up the market maker's account in `database_url` (migrated)
    and starts `python -m marketmaker` quoting `symbols` (its key: Stack.marketmaker_key). On exit
    the market maker is stopped first, so that it cancels its quotes. with_marketsim does the same
    for the market simulation (`python -m marketsim`, its agents' keys: Stack.marketsim_keys; its
    agent mix from SIM_* variables in `extra_env`, read here too). with_metrics gives every
    service without an HTTP port a METRICS_PORT; Stack.probe_urls lists where each one's
    /metrics is (the gateway's and the ws tier's on their own ports). `settlement_workers`
    settlement processes ("settlement", "settlement-1", ...) and `dbwriter_workers` DB processors
    share the markets. `up_seconds`: how long the gateway may take to answer.
    """
    symbols = symbols or list(load_markets())
    port = port or free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="stack-"))
    env = {
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": database_url,
        "KEY_PREFIX": prefix,
        "SECRET_KEY": Fernet.generate_key().decode(),
        "PORT": str(port),
        "LOG_LEVEL": "INFO",
        "GRPC_PORT": str(free_port()),
        # Tests and benchmarks drive the gateway from one IP and few keys far beyond Binance's
        # limits: off here; a test of the limits passes its own RATE_LIMIT_* values.
        "RATE_LIMIT_IP_WEIGHT_PER_MINUTE": "0",
        "RATE_LIMIT_ORDERS_PER_10S": "0",
        "RATE_LIMIT_ORDERS_PER_DAY": "0",
        # Likewise the open orders per account and market (benchmarks leave thousands resting).
        "MAX_NUM_ORDERS": "0",
        # Likewise their failed logins and sign-ups (the API fuzz makes hundreds) come from one IP.
        "LOGIN_FAILURES_PER_IP": "1000000",
        **extra_env,
    }
    for wanted, module in ((with_ws, "ws"), (with_dbwriter, "dbwriter")):
        if wanted and not module_available(module):
            raise RuntimeError(f"`python -m {module}` was asked for, but no {module} package is installed")
    url = f"http://127.0.0.1:{port}"
    layout = Layout(
        symbols,
        ws_port=free_port() if with_ws else None,
        dbwriter=with_dbwriter,
        settlement_workers=settlement_workers,
        dbwriter_workers=dbwriter_workers,
    )
    marketmaker_key = None
    if with_marketmaker:
        credentials = asyncio.run(
            setup_marketmaker(database_url, env["REDIS_URL"], prefix, env["SECRET_KEY"], load_markets())
        )
        marketmaker_key = (credentials.api_key, credentials.secret)
        env.setdefault("RATE_LIMIT_EXEMPT_KEYS", credentials.api_key)
        layout.marketmaker_env = {**credentials.env(), "GATEWAY_URL": url, "MM_SYMBOLS": ",".join(symbols)}
    marketsim_keys = {}
    if with_marketsim:
        agents = agent_names(mixes_from_env({**os.environ, **extra_env}))
        agent_keys = asyncio.run(
            setup_agents(database_url, env["REDIS_URL"], prefix, env["SECRET_KEY"], load_markets(), agents)
        )
        marketsim_keys = {agent: (c.api_key, c.secret) for agent, c in agent_keys.items()}
        # The simulated venue's agents are its own bots: no rate limits, no open-order count limits.
        exempt = [env.get("RATE_LIMIT_EXEMPT_KEYS", ""), *(c.api_key for c in agent_keys.values())]
        env["RATE_LIMIT_EXEMPT_KEYS"] = ",".join(k for k in exempt if k)
        layout.marketsim_env = {
            **accounts_env(agent_keys),
            "GATEWAY_URL": url,
            "SIM_SYMBOLS": ",".join(symbols),
        }
    probe_urls = {}
    if with_metrics:
        layout.metrics_ports = {name: free_port() for name in layout.probed()}
        probe_urls = {name: f"http://127.0.0.1:{port}" for name, port in layout.metrics_ports.items()}
        probe_urls[GATEWAY] = url
        if layout.ws_port is not None:
            probe_urls[WS] = f"http://127.0.0.1:{layout.ws_port}"
    supervisor = Supervisor(env, log_dir)
    add_services(supervisor, layout)
    supervisor.start_all()
    ws_url = f"ws://127.0.0.1:{layout.ws_port}" if layout.ws_port is not None else ""
    grpc_target = f"127.0.0.1:{env['GRPC_PORT']}" if env["GRPC_PORT"] != "0" else ""
    stack = Stack(
        url,
        prefix,
        supervisor,
        symbols,
        log_dir,
        ws_url,
        marketmaker_key,
        grpc_target,
        probe_urls,
        marketsim_keys,
    )
    try:
        wait_until_up(stack, up_seconds)
        yield stack
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stop_in_order(supervisor)


def wait_until_up(stack: Stack, seconds: float = 30.0) -> None:
    """Wait until the gateway answers (and the WebSocket port accepts, with the ws tier). Raises
    RuntimeError, with the logs, when a process exits or `seconds` pass."""
    checks = [health.gateway_answers(stack.url)]
    if stack.ws_url:
        checks.append(health.port_accepts(int(stack.ws_url.rsplit(":", 1)[1]), "WebSocket tier"))
    try:
        health.wait_until_healthy(stack.supervisor, checks, seconds, lambda: False)
    except health.StartupFailed as exc:
        raise RuntimeError(f"{exc}:\n{stack.logs()}") from None
