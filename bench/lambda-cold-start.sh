#!/usr/bin/env bash
# Benchmark (not a test) of the CloudFormation custom-resource Lambda under
# cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`),
# answering to a local stand-in for the pre-signed S3 URL:
#
#   cold   exec of `bootstrap` -> first invocation answered (the PUT delivered and
#          the Runtime API told), with the invocation already queued, as on a
#          Lambda cold start; a fresh process per run
#   warm   one invocation on a running process (invoke -> answer), many in a row
#   rss    peak resident memory (VmHWM) of the process after the first invocation
#   zip    size of the deployment zip (scripts/build-lambda.sh)
#
# The event is a Custom::IdcBootstrapTemplate Create (validate + render + PUT).
# Times include the emulator's own HTTP round trips; they are upper bounds for
# the function itself.
#
# Beside it, in the same run and interleaved round by round: a Python crhelper
# handler (bench/crhelper/, crhelper + boto3 as Lambda's Python runtime has them,
# under a standard-library runtime loop) answering the same event with the least a
# custom resource does, for the cold start and peak RSS.
#
# Usage: bench/lambda-cold-start.sh [--quick] [--out DIR]
#   IDCB_BOOTSTRAP_BIN=path   binary to measure (default: the release build from
#                             scripts/build-lambda.sh, built if missing)
# Results (JSON + summary) go to docs/benchmarks/<date>-<host>/lambda/ unless --out.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=${IDCB_VENV:-$ROOT/.venv}
export PATH="$VENV/bin:$PATH"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

QUICK=0
OUT=
while (($#)); do
	case $1 in
	--quick) QUICK=1 ;;
	--out)
		OUT=$2
		shift
		;;
	*)
		echo "unknown argument $1" >&2
		exit 2
		;;
	esac
	shift
done
OUT=${OUT:-$ROOT/docs/benchmarks/$(date -u +%Y-%m-%d)-$(hostname -s)/lambda}
mkdir -p "$OUT"

ZIP=$TARGET/lambda/bootstrap/bootstrap.zip
BIN=${IDCB_BOOTSTRAP_BIN:-$TARGET/x86_64-unknown-linux-gnu/release/bootstrap}
if [[ ! -x $BIN ]]; then
	scripts/build-lambda.sh >&2
fi

# The Python baseline's own environment, pinned (scripts/setup.sh does not need it).
PYLAMBDA=${IDCB_TOOLS:-$ROOT/.tools}/crhelper-venv
if [[ ! -x $PYLAMBDA/bin/python ]] || ! "$PYLAMBDA/bin/python" -c 'import crhelper, boto3' 2>/dev/null; then
	python3 -m venv "$PYLAMBDA" >&2
	"$PYLAMBDA/bin/pip" install -q crhelper==2.0.12 boto3==1.44.8 >&2
fi

COLD_RUNS=30
WARM_RUNS=300
if ((QUICK)); then
	COLD_RUNS=3
	WARM_RUNS=20
fi

python3 - "$BIN" "$ZIP" "$OUT" "$COLD_RUNS" "$WARM_RUNS" "$PYLAMBDA/bin/python" <<'PY'
import http.server, json, os, platform, socket, statistics, subprocess, sys, threading, time, urllib.request

bin_path, zip_path, out, cold_runs, warm_runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
py_lambda = sys.argv[6]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

class S3(http.server.BaseHTTPRequestHandler):
    # Keep-alive, as S3 does; HTTP/1.0 would close after every answer.
    protocol_version = "HTTP/1.1"
    def do_PUT(self):
        puts.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}"))
        self.send_response(200); self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a):
        pass

s3 = http.server.ThreadingHTTPServer(("127.0.0.1", 0), S3)
threading.Thread(target=s3.serve_forever, daemon=True).start()
s3_url = f"http://127.0.0.1:{s3.server_address[1]}/bench?X-Amz-Signature=x"

port = free_port()
watch = subprocess.Popen(["cargo-lambda", "lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1", "-P", str(port)],
                         cwd="cfn-resource", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(600):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.1).close(); break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cargo lambda watch did not start")

event = json.dumps({
    "RequestType": "Create", "ResponseURL": s3_url,
    "StackId": "arn:aws:cloudformation:us-east-1:111122223333:stack/bench/5b5c1b70-8a3e-11ef-9b1f-0affd3c1b6a1",
    "RequestId": "bench", "ResourceType": "Custom::IdcBootstrapTemplate", "LogicalResourceId": "Template",
    "ResourceProperties": {
        "ServiceToken": "arn:aws:lambda:us-east-1:111122223333:function:bench",
        "AwsAccountId": "111122223333", "SsoInstanceArn": "arn:aws:sso:::instance/ssoins-7223abc1234def56",
        "Region": "us-east-1", "TrustedPrincipalArn": "arn:aws:iam::999988887777:role/vendor",
        "ExternalIds": ["Q7pWm2Zk9XcV4bN8rT1yL6sD3fG5hJ0a"], "AccessLevel": "read_only"},
}).encode()
invoke_url = f"http://127.0.0.1:{port}/2015-03-31/functions/_/invocations"

puts = []

def invoke(check=True):
    req = urllib.request.Request(invoke_url, data=event, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        body = json.load(r)
    if check:
        assert body.get("Status") == "SUCCESS", body
    return body

env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"http://127.0.0.1:{port}/.rt", AWS_LAMBDA_FUNCTION_NAME="bench",
           AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
           IDCB_STATE_KEY="bench-state-key-0123456789abcdefghijklmnop", IDCB_LOG="warn",
           # The stand-in for S3 is plain HTTP on loopback: allow it as a response origin.
           IDCBOOTSTRAP_CFN_RESPONSE_ENDPOINTS=f"http://127.0.0.1:{s3.server_address[1]}")

py_env = dict(env, AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1")

def start(python=False):
    if python:
        return subprocess.Popen([py_lambda, os.path.join("bench", "crhelper", "bootstrap.py")], env=py_env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return subprocess.Popen([bin_path], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def vm(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0

def queued_invoke(check=True):
    """An invocation waiting in the emulator before the function exists."""
    done = {}
    def run():
        done["body"] = invoke(check); done["t"] = time.perf_counter()
    t = threading.Thread(target=run); t.start()
    time.sleep(0.2)  # the POST reaches the emulator and waits for a function
    return t, done

cold, rss, py_cold, py_rss = [], [], [], []
for _ in range(cold_runs):
    # One cold start of each per round: load on the machine reaches both alike.
    for python, times, peaks in ((False, cold, rss), (True, py_cold, py_rss)):
        n = len(puts)
        t, done = queued_invoke(check=not python)
        t0 = time.perf_counter()
        p = start(python)
        t.join()
        assert len(puts) == n + 1 and puts[-1].get("Status") == "SUCCESS", puts[-1:]
        times.append((done["t"] - t0) * 1000)
        peaks.append(vm(p.pid, "VmHWM"))
        p.kill(); p.wait()

p = start()
invoke()  # cold, not counted
warm = []
for _ in range(warm_runs):
    t0 = time.perf_counter(); invoke(); warm.append((time.perf_counter() - t0) * 1000)
rss_after_warm = vm(p.pid, "VmHWM")
p.kill(); p.wait()
watch.kill(); watch.wait(); s3.shutdown()

def q(xs, f):
    xs = sorted(xs); return xs[min(len(xs) - 1, int(f * len(xs)))]

result = {
    "binary": bin_path, "binary_bytes": os.path.getsize(bin_path),
    "zip": zip_path, "zip_bytes": os.path.getsize(zip_path) if os.path.exists(zip_path) else None,
    "cold_runs": cold_runs, "warm_runs": warm_runs,
    "cold_ms": {"median": statistics.median(cold), "p90": q(cold, 0.9), "min": min(cold), "max": max(cold)},
    "warm_ms": {"median": statistics.median(warm), "p90": q(warm, 0.9), "min": min(warm), "max": max(warm)},
    "rss_peak_first_invocation_mib": statistics.median(rss) / 2**20,
    "python_crhelper": {
        "cold_ms": {"median": statistics.median(py_cold), "p90": q(py_cold, 0.9), "min": min(py_cold), "max": max(py_cold)},
        "rss_peak_first_invocation_mib": statistics.median(py_rss) / 2**20,
        "cold_raw_ms": py_cold,
        "versions": subprocess.run([py_lambda, "-c", "import sys, crhelper, boto3, importlib.metadata as m; "
                                    "print(sys.version.split()[0], m.version('crhelper'), boto3.__version__)"],
                                   capture_output=True, text=True).stdout.split(),
    },
    "rss_peak_after_warm_mib": rss_after_warm / 2**20,
    "cold_raw_ms": cold, "warm_raw_ms": warm,
    "machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
    "cargo_lambda": subprocess.run(["cargo-lambda", "lambda", "--version"], capture_output=True, text=True).stdout.strip(),
}
with open(os.path.join(out, "lambda-cold-start.json"), "w") as f:
    json.dump(result, f, indent=2)
summary = (
    f"cold start (exec -> first invocation answered): median {result['cold_ms']['median']:.1f} ms, "
    f"p90 {result['cold_ms']['p90']:.1f} ms over {cold_runs} runs\n"
    f"warm invocation: median {result['warm_ms']['median']:.2f} ms, p90 {result['warm_ms']['p90']:.2f} ms over {warm_runs}\n"
    f"peak RSS: {result['rss_peak_first_invocation_mib']:.1f} MiB after the first invocation, "
    f"{result['rss_peak_after_warm_mib']:.1f} MiB after {warm_runs + 1}\n"
    f"Python crhelper handler, same run, interleaved: cold start median "
    f"{result['python_crhelper']['cold_ms']['median']:.0f} ms, peak RSS "
    f"{result['python_crhelper']['rss_peak_first_invocation_mib']:.1f} MiB "
    f"(Python {' / crhelper '.join(result['python_crhelper']['versions'][:2])}, boto3 {result['python_crhelper']['versions'][-1]})\n"
    f"binary: {result['binary_bytes'] / 2**20:.2f} MiB; zip: "
    + (f"{result['zip_bytes'] / 2**20:.2f} MiB" if result["zip_bytes"] else "not built") + "\n"
)
with open(os.path.join(out, "lambda-summary.txt"), "w") as f:
    f.write(summary)
print(summary, end="")
PY
