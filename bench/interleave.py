"""Run shell commands in interleaved rounds and report each one's wall and CPU time.

Usage: python3 interleave.py --runs N [--warmup W] [--cpu-log-dir DIR] --out FILE NAME=COMMAND...

Every round runs each command once, the starting command rotating from round to
round, so a change in the machine's load (other work on a shared machine) reaches
every command alike instead of whichever hyperfine happened to be timing. Wall time
is exec -> exit; CPU time is the user + system time of the command's whole process
tree (getrusage of waited-for children: Terraform and the providers it started).

With --cpu-log-dir, each run gets IDCB_CPU_LOG=DIR/NAME-I.log in its environment;
provider wrappers append "user sys" lines there (/usr/bin/time -f "%U %S"), so the
providers' own CPU can be told apart from Terraform's.

Writes one JSON object: per command, the samples and their median, mean and stddev.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_once(cmd, env):
    c0, t0 = children_cpu(), time.perf_counter()
    p = subprocess.run(["bash", "-c", cmd], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall, cpu = time.perf_counter() - t0, children_cpu() - c0
    if p.returncode != 0:
        sys.exit(f"{cmd!r} failed ({p.returncode}):\n{p.stderr.decode(errors='replace')[-2000:]}")
    return wall * 1000, cpu * 1000


def provider_cpu_ms(path):
    try:
        with open(path) as f:
            return sum(float(u) + float(s) for u, s in (line.split()[:2] for line in f if line.strip())) * 1000
    except FileNotFoundError:
        return 0.0


def stats(xs):
    return {
        "median": statistics.median(xs),
        "mean": statistics.fmean(xs),
        "stddev": statistics.stdev(xs) if len(xs) > 1 else 0.0,
        "min": min(xs),
        "max": max(xs),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--cpu-log-dir")
    ap.add_argument("--out", required=True)
    ap.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = ap.parse_args()
    named = [c.split("=", 1) for c in args.commands]
    samples = {n: {"wall_ms": [], "cpu_ms": [], "provider_cpu_ms": []} for n, _ in named}

    for r in range(-args.warmup, args.runs):
        k = r % len(named)
        for name, cmd in named[k:] + named[:k]:
            env = dict(os.environ)
            log = None
            if args.cpu_log_dir:
                log = os.path.join(args.cpu_log_dir, f"{name}-{r}.log")
                env["IDCB_CPU_LOG"] = log
            wall, cpu = run_once(cmd, env)
            if r < 0:
                continue
            samples[name]["wall_ms"].append(wall)
            samples[name]["cpu_ms"].append(cpu)
            if log:
                samples[name]["provider_cpu_ms"].append(provider_cpu_ms(log))

    out = {"runs": args.runs, "warmup": args.warmup, "order": "interleaved, rotating", "commands": {}}
    for name, cmd in named:
        s = samples[name]
        entry = {"command": cmd, "wall_ms": stats(s["wall_ms"]), "cpu_ms": stats(s["cpu_ms"]), "samples": s}
        if s["provider_cpu_ms"]:
            entry["provider_cpu_ms"] = stats(s["provider_cpu_ms"])
            entry["terraform_cpu_ms"] = stats([c - p for c, p in zip(s["cpu_ms"], s["provider_cpu_ms"])])
        out["commands"][name] = entry
    with open(args.out, "w") as f:
        json.dump(out, f, indent=2)
    for name, _ in named:
        e = out["commands"][name]
        line = f"  {name:<14} wall median {e['wall_ms']['median']:8.1f} ms   cpu median {e['cpu_ms']['median']:8.1f} ms"
        if "provider_cpu_ms" in e:
            line += f"   (provider {e['provider_cpu_ms']['median']:.0f}, Terraform {e['terraform_cpu_ms']['median']:.0f})"
        print(line)


if __name__ == "__main__":
    main()
