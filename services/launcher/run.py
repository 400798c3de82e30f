"""`make run`: the whole exchange on one machine, supervised, until Ctrl-C or SIGTERM.

Settles which Redis and PostgreSQL to use, starting embedded ones when none is given or running
(launcher.datastores); prepares (Redis reachable, database created and migrated, secret key, demo
user, market maker and market simulation accounts); starts one engine per market, settlement, the
gateway, the WebSocket tier and the DB processor when their packages are installed, the market
maker and the market simulation; waits until they are up and prints the addresses; restarts any
process that dies; on Ctrl-C/SIGTERM stops the bots first (they cancel their orders), then the
rest, then the embedded Redis and PostgreSQL.
"""

import asyncio
import json
import logging
import os
import signal
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from cryptography.fernet import Fernet

from botkit.account import credentials_from_env, ensure_marketmaker_account
from exchange_core.db import create_pool
from exchange_core.errors import ApiError
from exchange_core.keys import Keys
from exchange_core.ledger import Ledger
from exchange_core.markets import Market, load_markets
from exchange_core.store import connect
from gateway.settings import GatewaySettings
from launcher import datastores, health
from launcher.demo import ensure_demo_user
from launcher.prepare import PrepareError, check_port_free, check_redis, prepare_database, secret_key
from launcher.processes import (
    DBWRITER,
    GATEWAY,
    MARKETMAKER,
    MARKETSIM,
    WS,
    Layout,
    add_services,
    module_available,
    stop_in_order,
    web_dir,
)
from launcher.restarts import RestartPolicy
from launcher.settings import LauncherSettings
from launcher.supervisor import Supervisor
from marketsim.accounts import accounts_env, ensure_agent_accounts
from marketsim.settings import agent_names, mixes_from_env

log = logging.getLogger("launcher")

HOST = "127.0.0.1"
PIDS_FILE = "processes.json"
UP_LINE = "Exchange is up."


@dataclass(frozen=True)
class Prepared:
    secret_key: str
    demo_password: str
    marketmaker_env: dict[str, str] | None
    marketsim_env: dict[str, str] | None
    # API keys of the bots, never rate-limited (their start-up bursts).
    bot_keys: list[str]


class Stopping:
    """Set by SIGINT/SIGTERM; the main loop polls it."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def handle(self, signum: int, _: FrameType | None) -> None:
        if not self.requested:
            log.info("%s received: stopping", signal.Signals(signum).name)
        self.requested = True


async def prepare(settings: LauncherSettings, run_dir: Path, markets: dict[str, Market]) -> Prepared:
    """Everything before the first process starts. Raises PrepareError with what to do."""
    check_redis(settings.redis_url)
    check_port_free(settings.gateway_port, "GATEWAY_PORT")
    if settings.grpc_port:
        check_port_free(settings.grpc_port, "GRPC_PORT")
    if module_available(WS):
        check_port_free(settings.ws_port, "WS_PORT")
    applied = await prepare_database(settings.database_url)
    if applied:
        log.info("database migrated: %s", ", ".join(applied))
    key = secret_key(settings.secret_key, run_dir)
    pool = await create_pool(settings.database_url, min_size=1, max_size=2)
    redis = connect(settings.redis_url, max_connections=4)
    try:
        ledger = Ledger(redis, Keys(settings.key_prefix))
        funds = GatewaySettings().demo_funds
        password = await ensure_demo_user(pool, ledger, markets, settings.demo_email, run_dir, funds)
        mm_env = sim_env = None
        bot_keys = []
        if settings.runs_marketmaker:
            credentials = credentials_from_env() or await ensure_marketmaker_account(
                pool, ledger, Fernet(key.encode()), markets, settings.mm_funds
            )
            mm_env = {**credentials.env(), "GATEWAY_URL": gateway_url(settings)}
            bot_keys.append(credentials.api_key)
        if settings.marketsim:
            agents = agent_names(mixes_from_env(os.environ))
            agent_keys = await ensure_agent_accounts(
                pool, ledger, Fernet(key.encode()), markets, agents, settings.sim_funds
            )
            sim_env = {**accounts_env(agent_keys), "GATEWAY_URL": gateway_url(settings)}
            bot_keys += [c.api_key for c in agent_keys.values()]
    except ApiError as exc:
        raise PrepareError(f"DEMO_EMAIL: {exc.msg}") from None
    except ValueError as exc:  # DEMO_FUNDS, MM_FUNDS, SIM_FUNDS or the SIM_*MIX
        raise PrepareError(str(exc)) from None
    finally:
        await redis.aclose()
        await pool.close()
    return Prepared(key, password, mm_env, sim_env, bot_keys)


def gateway_url(settings: LauncherSettings) -> str:
    return f"http://{HOST}:{settings.gateway_port}"


def base_env(settings: LauncherSettings, key: str) -> dict[str, str]:
    """The environment every process gets (the user's own environment underneath)."""
    return {
        "REDIS_URL": settings.redis_url,
        "DATABASE_URL": settings.database_url,
        "KEY_PREFIX": settings.key_prefix,
        "SECRET_KEY": key,
        "HOST": HOST,
        "PORT": str(settings.gateway_port),
        "GRPC_PORT": str(settings.grpc_port),
        "LOG_LEVEL": settings.log_level,
    }


def metrics_line(settings: LauncherSettings, layout: Layout) -> str:
    """Where /metrics is: the gateway's and ws tier's ports, and the METRICS_PORT range."""
    where = [f"{gateway_url(settings)}/metrics"]
    if layout.ws_port is not None:
        where.append(f"http://{HOST}:{layout.ws_port}/metrics")
    if layout.metrics_ports:
        ports = sorted(layout.metrics_ports.values())
        where.append(f"http://{HOST}:{ports[0]}-{ports[-1]}/metrics ({', '.join(layout.metrics_ports)})")
    return "  Metrics    " + ", ".join(where)


def banner(
    settings: LauncherSettings,
    ws: bool,
    run_dir: Path,
    password: str,
    layout: Layout | None = None,
    stores: datastores.DataStores | None = None,
) -> str:
    rest = gateway_url(settings)
    ws_line = (
        f"ws://{HOST}:{settings.ws_port}   (/ws/<stream>, /stream?streams=...)"
        if ws
        else ("not started (no `ws` package installed)")
    )
    ws_api = f"ws://{HOST}:{settings.gateway_port}/ws-api/v3   (orders and queries: docs/wsapi.md)"
    grpc_line = (
        f"{HOST}:{settings.grpc_port}   (Trading, MarketData: docs/grpc.md)" if settings.grpc_port else "off"
    )
    return "\n".join(
        [
            UP_LINE,
            f"  Web page   {rest}",
            f"  REST       {rest}/api/v3   (docs: {rest}/docs)",
            f"  WebSocket  {ws_line}",
            f"  WS API     {ws_api}",
            f"  gRPC       {grpc_line}",
            f"  Demo login {settings.demo_email} / {password}",
            *([metrics_line(settings, layout)] if layout is not None else []),
            *(stores.banner_lines() if stores is not None else []),
            f"  Logs       {run_dir / 'logs'}",
            "Ctrl-C stops everything.",
        ]
    )


def write_pids(supervisor: Supervisor, run_dir: Path) -> None:
    (run_dir / PIDS_FILE).write_text(json.dumps(supervisor.pids(), indent=1) + "\n")


def supervise(supervisor: Supervisor, run_dir: Path, stopping: Stopping) -> None:
    """Restart every process that exits (see launcher.restarts for the pace), until `stopping()`."""
    policy = RestartPolicy()
    for name in supervisor.services:
        policy.started_now(name)
    while not stopping():
        now = time.monotonic()
        for name, service in supervisor.services.items():
            process = service.process
            if process is None or process.poll() is None or policy.waiting(name):
                continue
            delay = policy.exited(name, now)
            log.warning(
                "%s exited (code %s); restarting in %.0f s; see %s",
                name,
                process.returncode,
                delay,
                run_dir / "logs" / f"{name}.log",
            )
        restarted = policy.ready(now)
        for name in restarted:
            supervisor.start(name)
            supervisor.services[name].restarts += 1
            policy.started_now(name, now)
        if restarted:
            write_pids(supervisor, run_dir)
        time.sleep(0.25)


def log_tail(run_dir: Path, name: str, lines: int = 30) -> str:
    path = run_dir / "logs" / f"{name}.log"
    return "\n".join(path.read_text().splitlines()[-lines:]) if path.exists() else ""


def main() -> int:
    settings = LauncherSettings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s launcher %(message)s", stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    run_dir = Path(settings.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stops:  # the embedded stores, stopped after everything else
        try:
            stores = datastores.provide(settings, run_dir, stops)
        except PrepareError as exc:
            print(f"Cannot start the exchange: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 130
        for store in (stores.redis, stores.postgres):
            log.info("%s: %s", store.name, store.describe())
        update = {"redis_url": stores.redis.url, "database_url": stores.postgres.url}
        return run_exchange(settings.model_copy(update=update), run_dir, stores)


def run_exchange(settings: LauncherSettings, run_dir: Path, stores: datastores.DataStores) -> int:
    """The exchange on `stores` until Ctrl-C/SIGTERM; returns the exit code."""
    markets = load_markets(Path(settings.markets_file) if settings.markets_file else None)
    try:
        prepared = asyncio.run(prepare(settings, run_dir, markets))
    except PrepareError as exc:
        print(f"Cannot start the exchange: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    ws, dbwriter = module_available(WS), module_available(DBWRITER)
    for name, present in ((WS, ws), (DBWRITER, dbwriter)):
        if not present:
            log.warning("no `%s` package installed: not started", name)
    env = base_env(settings, prepared.secret_key)
    if prepared.bot_keys:  # their start-up bursts must not meet the rate limits
        exempt = [os.environ.get("RATE_LIMIT_EXEMPT_KEYS", ""), *prepared.bot_keys]
        env["RATE_LIMIT_EXEMPT_KEYS"] = ",".join(k for k in exempt if k)
    supervisor = Supervisor(env, run_dir / "logs", detach=True)
    layout = Layout(
        list(markets),
        settings.ws_port if ws else None,
        dbwriter,
        prepared.marketmaker_env,
        web_dir=web_dir(),
        settlement_workers=settings.settlement_workers,
        dbwriter_workers=settings.dbwriter_workers,
        marketsim_env=prepared.marketsim_env,
    )
    if settings.metrics_port_base:
        layout.metrics_ports = {n: settings.metrics_port_base + i for i, n in enumerate(layout.probed())}
    add_services(supervisor, layout)
    stopping = Stopping()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stopping.handle)
    supervisor.start_all()
    write_pids(supervisor, run_dir)
    checks = [health.ready(GATEWAY, gateway_url(settings))]
    if ws:
        checks.append(health.ready(WS, f"http://127.0.0.1:{settings.ws_port}"))
    checks += [
        health.ready(name, f"http://127.0.0.1:{port}")
        for name, port in layout.metrics_ports.items()
        if name not in (MARKETMAKER, MARKETSIM)  # API clients of the gateway: they follow
    ]
    try:
        if health.wait_until_healthy(supervisor, checks, settings.startup_timeout_seconds, stopping):
            print(banner(settings, ws, run_dir, prepared.demo_password, layout, stores), flush=True)
            supervise(supervisor, run_dir, stopping)
        return 0
    except health.StartupFailed as exc:
        failed = [n for n, s in supervisor.services.items() if s.process and s.process.poll() is not None]
        for name in failed or [GATEWAY]:
            print(f"== {name}.log\n{log_tail(run_dir, name)}", file=sys.stderr)
        print(f"Cannot start the exchange: {exc}", file=sys.stderr)
        return 1
    finally:
        stop_in_order(supervisor)
        (run_dir / PIDS_FILE).unlink(missing_ok=True)
        log.info("stopped")
