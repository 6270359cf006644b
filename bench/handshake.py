"""Time a Terraform provider from exec to its go-plugin handshake line.

Usage: python3 handshake.py --cert CLIENT_CERT.pem [--runs N] [--warmup N] PROVIDER

Starts the provider the way Terraform does (magic cookie, protocol versions,
PLUGIN_CLIENT_CERT for AutoMTLS), times exec -> first stdout line, reads VmRSS
from /proc/<pid>/status right after that line, then stops the provider. A run
loop here rather than hyperfine: hyperfine times a process to its exit, and a
provider does not exit after its handshake.

Prints one JSON object: per-run samples, and mean/median/min/max/stddev.
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
    ap.add_argument("provider")
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
        one_run(args.provider, env)
    times, rss = [], []
    fields = None
    for _ in range(args.runs):
        t, r, fields = one_run(args.provider, env)
        times.append(t)
        rss.append(r / 1024)
    json.dump(
        {
            "provider": args.provider,
            "runs": args.runs,
            "handshake_fields": fields[:5],
            "server_cert_present": len(fields) > 5 and bool(fields[5]),
            "handshake_ms": stats(times),
            "rss_mib": stats(rss),
            "samples_ms": times,
            "samples_rss_mib": rss,
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
