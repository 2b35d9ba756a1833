"""Cold start of the desktop bundle to a usable window, next to ``python -m signoff app`` from a venv.

Target (issue 8): under 3 s from launching the bundle to its main window. Each run starts
``signoff app --screenshot FILE`` on the same SQLite database (created and migrated beforehand) with
``SIGNOFF_STARTUP_PROBE=1``, which makes the app write one line to stderr when the main window has
painted for the first time. The time from spawning the process to reading that line is the figure;
the line also carries the CPU time the process had used by then, which a busy machine distorts less.

"cold" is the first run after the files of the bundle (or of the venv and the checkout) have been
evicted from the page cache with posix_fadvise(DONTNEED), as after a reboot; "warm" is the best of the
following runs. Run:

    python benchmarks/bundle_startup.py                         # dist/signoff/signoff and this Python
    python benchmarks/bundle_startup.py --bundle PATH --python PATH --runs 5

A venv without cached bytecode (PYTHONDONTWRITEBYTECODE, a read-only site-packages) compiles every
module at every start; the bundle always carries compiled bytecode. The script says which case it saw.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MARKER = "signoff-startup: main window painted"
TARGET_SECONDS = 3.0


def evict(folders: list[Path]) -> int:
    """Drop these folders' files from the page cache (only clean pages; needs no privileges)."""
    count = 0
    for folder in folders:
        for root, _dirs, files in os.walk(folder):
            for name in files:
                try:
                    fd = os.open(os.path.join(root, name), os.O_RDONLY)
                except OSError:
                    continue
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                    count += 1
                finally:
                    os.close(fd)
    return count


def one_start(command: list[str], env: dict[str, str], screenshot: Path) -> tuple[float, float, float]:
    """(seconds to the painted window, CPU seconds by then, seconds until the process exited)."""
    start = time.perf_counter()
    process = subprocess.Popen(
        [*command, "app", "--screenshot", str(screenshot)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    shown = cpu = None
    assert process.stderr is not None
    for line in process.stderr:
        if line.startswith(MARKER) and shown is None:
            shown = time.perf_counter() - start
            cpu = float(line.rsplit("cpu", 1)[1].split()[0])
    code = process.wait()
    total = time.perf_counter() - start
    if code != 0 or shown is None or cpu is None:
        raise SystemExit(f"{' '.join(command)} app --screenshot failed (exit {code}, window seen: {shown})")
    return shown, cpu, total


def measure(label: str, command: list[str], env: dict[str, str], cached: list[Path], runs: int, out: Path):
    files = evict(cached)
    cold = one_start(command, env, out)
    warm = [one_start(command, env, out) for _ in range(runs)]
    best = min(warm)
    print(
        f"{label:<28} cold {cold[0]:6.2f} s (cpu {cold[1]:5.2f})   best of {runs} {best[0]:6.2f} s "
        f"(cpu {best[1]:5.2f})   median {sorted(w[0] for w in warm)[len(warm) // 2]:6.2f} s"
        f"   [{files} files evicted]"
    )
    return cold, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=REPO / "dist" / "signoff" / "signoff")
    parser.add_argument("--python", default=sys.executable, help="the venv's Python, for python -m signoff")
    parser.add_argument("--runs", type=int, default=3, help="warm runs after the cold one (default 3)")
    args = parser.parse_args()
    if not args.bundle.is_file():
        raise SystemExit(f"no bundle at {args.bundle}; build it with ./dev package")

    folder = Path(tempfile.mkdtemp(prefix="signoff-startup-"))
    env = dict(os.environ, SIGNOFF_STARTUP_PROBE="1", SIGNOFF_DB=f"sqlite:///{folder / 'startup.db'}")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    bundle_env = {k: v for k, v in env.items() if not k.startswith("PYTHON")}
    venv_env = dict(env, PYTHONPATH=str(REPO / "app"))
    # The database is created and migrated once, outside the measurement.
    subprocess.run([str(args.bundle), "models", "list"], env=bundle_env, check=True, capture_output=True)

    load = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {load:.1f}; target: window within {TARGET_SECONDS:.0f} s")
    bytecode = "no bytecode cache" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "bytecode cached"
    out = folder / "window.png"
    cold, best = measure("bundle", [str(args.bundle)], bundle_env, [args.bundle.parent], args.runs, out)
    venv = Path(args.python).absolute().parents[1]  # not resolved: bin/python links to the base Python
    base = subprocess.run(
        [args.python, "-c", "import sys; print(sys.base_prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    stdlib = Path(base) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}"
    cached = [venv, REPO / "app", stdlib]
    measure(f"venv ({bytecode})", [args.python, "-m", "signoff"], venv_env, cached, args.runs, out)
    verdict = "met" if max(cold[0], best[0]) < TARGET_SECONDS else "NOT met"
    print(f"bundle: cold {cold[0]:.2f} s, warm {best[0]:.2f} s: target {verdict} at load average {load:.1f}")


if __name__ == "__main__":
    main()
