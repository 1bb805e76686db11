"""Start-up cost: from process start to a loaded profile, ``import cielo``, ``cielo plugins``.

Each figure is the median over several fresh processes, with warm file and bytecode
caches (as a user sees it from the second run on; ``PYTHONDONTWRITEBYTECODE`` is
dropped for the measured processes). Run: ``.venv/bin/python benchmarks/bench_startup.py``
(``--runs N``, ``--profile NAME|PATH``; default ``sim``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

#: Prints in-process timings (seconds) of import and profile load as JSON.
_PROBE = """
import json, time
t0 = time.perf_counter()
import cielo
t1 = time.perf_counter()
env = cielo.load_profile({profile!r})
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "load": t2 - t1, "devices": len(env.devices),
                   "plans": len(env.plans)}}))
"""


def _wall(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])}... failed:\n{proc.stderr}")
    return elapsed, proc.stdout


def _median_ms(values: list[float]) -> str:
    return (
        f"{statistics.median(values) * 1e3:7.1f} ms (min {min(values) * 1e3:.1f}, n={len(values)})"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--profile", default="sim")
    args = parser.parse_args(argv)
    # as installed: bytecode caching on (a dev shell may set PYTHONDONTWRITEBYTECODE)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CIELO_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    py = sys.executable
    cielo_exe = shutil.which("cielo", path=os.path.dirname(py)) or "cielo"

    runs: dict[str, list[float]] = {
        "bare": [],
        "import": [],
        "load": [],
        "inproc_import": [],
        "inproc_load": [],
        "plugins": [],
    }
    info: dict[str, int] = {}
    _wall([py, "-c", _PROBE.format(profile=args.profile)], env)  # warm file and bytecode caches
    for _ in range(args.runs):
        runs["bare"].append(_wall([py, "-c", "pass"], env)[0])
        runs["import"].append(_wall([py, "-c", "import cielo"], env)[0])
        elapsed, out = _wall([py, "-c", _PROBE.format(profile=args.profile)], env)
        probe = json.loads(out)
        runs["load"].append(elapsed)
        runs["inproc_import"].append(probe["import"])
        runs["inproc_load"].append(probe["load"])
        info = {"devices": probe["devices"], "plans": probe["plans"]}
        runs["plugins"].append(_wall([cielo_exe, "plugins"], env)[0])

    print(
        f"cielo start-up (Python {sys.version.split()[0]}, median of {args.runs} fresh processes)"
    )
    print(
        f"  process start -> loaded {args.profile!r} profile: {_median_ms(runs['load'])}"
        f"  [{info['devices']} devices, {info['plans']} plans]"
    )
    print(f"    of which import cielo (in process):   {_median_ms(runs['inproc_import'])}")
    print(f"    of which load_profile (in process):   {_median_ms(runs['inproc_load'])}")
    print(f"  python -c 'import cielo' (wall):        {_median_ms(runs['import'])}")
    print(f"  python -c pass (interpreter baseline):  {_median_ms(runs['bare'])}")
    print(f"  cielo plugins (wall):                   {_median_ms(runs['plugins'])}")


if __name__ == "__main__":
    main()
