"""podman and buildah as they work on this machine (rootful, no daemon): runc rather than crun
(crun: "cgroups in hybrid mode not supported"), with lowered limits, and chroot isolation for
`buildah bud`'s RUN steps. Every container is labelled with its run, so that the run can remove
exactly what it made."""

import subprocess
import time
from pathlib import Path

LABEL = "exchange-image-check"
RUNTIME = ["--runtime", "runc", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1000:1000"]


def podman(*args: str, timeout_s: float = 600, env: dict[str, str] | None = None) -> str:
    """`podman <args>`, checked; its standard output, stripped."""
    done = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout_s, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: exit {done.returncode}\n{done.stderr[-4000:]}")
    return done.stdout.strip()


def build(context: Path, tag: str, build_args: dict[str, str], log: Path) -> float:
    """`buildah bud` the Dockerfile of `context` as `tag`; returns the seconds it took."""
    arguments = [arg for key, value in build_args.items() for arg in ("--build-arg", f"{key}={value}")]
    command = ["buildah", "bud", "--isolation", "chroot", "--pull-never", "--force-rm", "--layers=false",
               *arguments, "-t", tag, "-f", str(context / "Dockerfile"), str(context)]  # fmt: skip
    started = time.monotonic()
    with log.open("w") as out:
        done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: exit {done.returncode}\n{log.read_text()[-6000:]}")
    return time.monotonic() - started


def image_size(tag: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", tag))


def image_exists(name: str) -> bool:
    return subprocess.run(["podman", "image", "exists", name], capture_output=True).returncode == 0


def containers_of(run: str) -> list[str]:
    """The names of every container (running or not) of `run`."""
    listed = podman("ps", "-a", "--filter", f"label={LABEL}={run}", "--format", "{{.Names}}")
    return listed.split()


def conmon_of(run: str) -> list[int]:
    """The conmon processes (one per running container) still serving a container of `run`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if proc.name.isdigit() and argv[0].endswith(b"conmon") and any(run.encode() in a for a in argv):
            found.append(int(proc.name))
    return found


def remove_run(run: str, images: list[str]) -> None:
    """Remove every container of `run` (killed if running) and `images`, whatever state they are in."""
    names = containers_of(run)
    if names:
        podman("rm", "--force", "--time", "0", *names)
    for image in images:
        subprocess.run(["podman", "rmi", "--force", image], capture_output=True, timeout=300)
