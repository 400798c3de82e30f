"""The image runs the exchange: every service of the chart, each in a container of the image built
from the Dockerfile, under the chart's security context; a signed order goes through the
containerized gateway, engine and settlement; SIGTERM stops every container cleanly in time.
(`make image-check`; docs/image.md.)"""

import time
from decimal import Decimal

import httpx

from tests.client import sign_up
from tests.image.conftest import ROOT, RUN, SYMBOL, Container, Deployment, run_to_end, smoke_pod
from tests.image.podman import LABEL, RUNTIME, podman

# Run in the image as root (to see every folder): what the build must not leave in it.
LEFTOVERS = """
import glob, os, shutil
found = [p for p in ("/root/.cache", "/opt/tools", "/app/services/build", "/src") if os.path.exists(p)]
for top in ("/app", "/opt/venv"):
    for folder, subfolders, files in os.walk(top):
        found += [os.path.join(folder, d) for d in subfolders if d in (".mypy_cache", "node_modules")]
        if top == "/app":
            found += [os.path.join(folder, f) for f in files if f.endswith((".c", ".h", ".o"))]
found += [tool for tool in ("gcc", "cc", "node", "npm", "mypyc", "protoc") if shutil.which(tool)]
print(f"leftovers: {found}")
print(f"compiled: {len(glob.glob('/app/services/matching/*.so'))}")
print(f"web: {os.path.exists('/app/web/index.html')}")
"""
STOP_ORDER = ["marketsim", "marketmaker", "gateway", "ws", "dbwriter", "settlement", "engine"]
PROCESS_STATUS = "print(open('/proc/1/status').read())"
WRITE_ROOT = "open('/app/written', 'w')"


def test_the_image_holds_the_built_parts_and_no_build_leftovers(image: str) -> None:
    """The compiled core and the web page are in; caches, the tools venv, mypyc's build folder and
    its C sources, compilers and node are not."""
    name = f"{LABEL}-{RUN}-leftovers"
    seen = podman(
        "run", "--rm", "--name", name, "--label", f"{LABEL}={RUN}", *RUNTIME, "--user", "0",
        "--entrypoint", "python", image, "-c", LEFTOVERS,
    ).splitlines()  # fmt: skip
    modules = len(list((ROOT / "services" / "matching").glob("*.py")))
    assert seen == ["leftovers: []", f"compiled: {modules}", "web: True"], seen


def test_every_service_answers_healthz_and_readyz(deployment: Deployment) -> None:
    assert sorted(c.component for c in deployment.containers) == sorted(STOP_ORDER)
    for container in deployment.containers:
        for path in ("/healthz", "/readyz"):
            response = httpx.get(container.url(path), timeout=5)
            assert response.status_code == 200, (container.name, path, response.text)


def _status(container: Container) -> dict[str, str]:
    """/proc/1/status (the service's process) as seen inside the container."""
    text = podman("exec", container.name, "python", "-c", PROCESS_STATUS)
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def test_every_container_runs_under_the_charts_security_context(deployment: Deployment) -> None:
    """uid/gid 10001, no capability at all, no privilege escalation, a read-only root filesystem."""
    for container in deployment.containers:
        status = {key: value.split() for key, value in _status(container).items()}
        assert status["Uid"][:2] == ["10001", "10001"] and status["Gid"][:2] == ["10001", "10001"]
        assert int(status["CapEff"][0], 16) == 0 and int(status["CapBnd"][0], 16) == 0, container.name
        assert status["NoNewPrivs"] == ["1"], container.name
        write = ["exec", container.name, "python", "-c", WRITE_ROOT]
        try:
            podman(*write)
        except RuntimeError as refused:
            assert "Read-only file system" in str(refused), refused
        else:
            raise AssertionError(f"{container.name}: the root filesystem is writable")


def test_the_helm_test_pod_passes_against_the_containers(deployment: Deployment) -> None:
    """`helm test` (python -m launcher.smoke): ping, exchangeInfo, depth, a WebSocket subscription."""
    manifest, pod = smoke_pod(deployment)
    code, output = run_to_end(deployment.cluster, manifest, pod)
    assert code == 0, output
    assert "the exchange answers" in output


def test_a_signed_order_is_matched_settled_and_reported_filled(deployment: Deployment) -> None:
    """A signed MARKET buy through the gateway fills against the bots' resting asks in the
    engine; settlement credits the BTC; GET /api/v3/order reports it FILLED."""
    url = deployment.gateway_url()
    deadline = time.monotonic() + 60
    while not httpx.get(f"{url}/api/v3/depth", params={"symbol": SYMBOL}, timeout=5).json().get("asks"):
        assert time.monotonic() < deadline, "no ask quoted within 60 s"
        time.sleep(0.5)
    trader = sign_up(url)
    before = trader.balances()
    placed = trader.call("POST", "/api/v3/order", symbol=SYMBOL, side="BUY", type="MARKET", quantity="0.001")
    deadline = time.monotonic() + 30
    while True:
        order = trader.call("GET", "/api/v3/order", symbol=SYMBOL, orderId=placed["orderId"])
        after = trader.balances()
        if order["status"] == "FILLED" and Decimal(after["BTC"][0]) > Decimal(before["BTC"][0]):
            break
        assert time.monotonic() < deadline, (order, after)
        time.sleep(0.2)
    assert Decimal(order["executedQty"]) == Decimal("0.001")
    spent = Decimal(order["cummulativeQuoteQty"])
    assert spent > 0
    assert Decimal(after["USDT"][0]) == Decimal(before["USDT"][0]) - spent
    assert Decimal(after["BTC"][0]) > Decimal(before["BTC"][0]) + Decimal("0.0009")


def test_sigterm_stops_every_container_cleanly_within_its_grace_period(deployment: Deployment) -> None:
    """`podman stop -t <terminationGracePeriodSeconds>`, in the order the launcher stops them: each
    service handles SIGTERM and exits 0 (a SIGKILL at the end of the grace period would be 137,
    an unhandled SIGTERM 143)."""
    print("\nstop (SIGTERM -> exit):")
    for name in STOP_ORDER:
        container = deployment.one(name)
        started = time.monotonic()
        podman("stop", "--time", str(container.grace_s), container.name, timeout_s=container.grace_s + 30)
        took = time.monotonic() - started
        code = int(podman("inspect", "--format", "{{.State.ExitCode}}", container.name))
        print(f"  {name:12} exit {code} after {took:4.1f} s (grace {container.grace_s} s)")
        assert code == 0, (container.name, code, container.logs())
        assert took < container.grace_s, (container.name, took)
