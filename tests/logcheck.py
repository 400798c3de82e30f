"""What the services of a test's stack logged that they should not have: tracebacks."""

from pathlib import Path

# A traceback, and asyncio's report of a task that died with nobody awaiting it.
MARKERS = ("Traceback (most recent call last)", "exception was never retrieved")


def tracebacks(log_dir: Path) -> list[str]:
    """Each logged traceback in the *.log files of `log_dir` as "file: the lines around it"; empty
    when there is none."""
    found: list[str] = []
    for path in sorted(log_dir.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if any(marker in line for marker in MARKERS):
                found.append(f"{path.name}: " + "\n".join(lines[max(0, i - 2) : i + 20]))
    return found
