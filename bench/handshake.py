"""Time a Terraform provider from exec to its go-plugin handshake line.

Usage: python3 handshake.py --cert CLIENT_CERT.pem [--runs N] [--warmup N] PROVIDER...

Starts the provider the way Terraform does (magic cookie, protocol versions,
PLUGIN_CLIENT_CERT for AutoMTLS), times exec -> first stdout line, reads VmRSS
from /proc/<pid>/status right after that line, then stops the provider. A run
loop here rather than hyperfine: hyperfine times a process to its exit, and a
provider does not exit after its handshake.

With several providers, runs alternate between them (one of each per round), so
load from other work on the machine reaches each alike.

Prints one JSON object: per-run samples, and mean/median/min/max/stddev; with
several providers, {"results": [one such object per provider]}.
"""

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time

MAGIC = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def one_run(provider, env):
    start = time.perf_counter_ns()
    proc = subprocess.Popen(
        [provider], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, env=env
    )
    try:
        line = proc.stdout.readline()
        elapsed = time.perf_counter_ns() - start
        rss = vm_rss_kib(proc.pid)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    fields = line.decode(errors="replace").strip().split("|")
    if len(fields) > 3 and fields[2] == "unix":
        # Killed before it could clean up its socket.
        try:
            os.unlink(fields[3])
        except OSError:
            pass
    if len(fields) < 5 or fields[0] != "1":
        raise RuntimeError(f"not a go-plugin handshake line: {line[:200]!r}")
    return elapsed / 1e6, rss, fields


def stats(xs):
    return {
        "mean": statistics.fmean(xs),
        "median": statistics.median(xs),
        "min": min(xs),
        "max": max(xs),
        "stddev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True, help="PEM client certificate (PLUGIN_CLIENT_CERT)")
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("providers", nargs="+", metavar="PROVIDER")
    args = ap.parse_args()

    env = dict(os.environ)
    env.update(
        TF_PLUGIN_MAGIC_COOKIE=MAGIC,
        PLUGIN_PROTOCOL_VERSIONS="5",
        PLUGIN_CLIENT_CERT=open(args.cert).read(),
        PLUGIN_MIN_PORT="10000",
        PLUGIN_MAX_PORT="25000",
    )
    for _ in range(args.warmup):
        for provider in args.providers:
            one_run(provider, env)
    times = {p: [] for p in args.providers}
    rss = {p: [] for p in args.providers}
    fields = {}
    for _ in range(args.runs):
        for provider in args.providers:
            t, r, fields[provider] = one_run(provider, env)
            times[provider].append(t)
            rss[provider].append(r / 1024)
    results = [
        {
            "provider": p,
            "runs": args.runs,
            "handshake_fields": fields[p][:5],
            "server_cert_present": len(fields[p]) > 5 and bool(fields[p][5]),
            "handshake_ms": stats(times[p]),
            "rss_mib": stats(rss[p]),
            "samples_ms": times[p],
            "samples_rss_mib": rss[p],
        }
        for p in args.providers
    ]
    json.dump(results[0] if len(results) == 1 else {"results": results}, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
