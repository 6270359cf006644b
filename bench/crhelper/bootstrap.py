"""A minimal Python Lambda runtime loop (what awslambdaric does, in the standard
library): GET the next invocation from the Runtime API, call handler.handler, POST
its result. awslambdaric's native client crashes (SIGSEGV) against cargo-lambda's
emulator, so bench/lambda-cold-start.sh runs the crhelper handler under this loop:
the cold start it measures is Python's start-up, the imports of crhelper and boto3,
crhelper's set-up and the invocation, as on Lambda's Python runtime.
"""

import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import handler  # noqa: E402
import crhelper.utils  # noqa: E402
import http.client  # noqa: E402


class _PlainConnection(http.client.HTTPConnection):
    """crhelper PUTs the response over HTTPS only; the bench's stand-in for the
    pre-signed S3 URL is plain HTTP on loopback."""

    def __init__(self, host, *args, context=None, **kwargs):
        super().__init__(host, *args, **kwargs)


crhelper.utils.HTTPSConnection = _PlainConnection

_API = os.environ["AWS_LAMBDA_RUNTIME_API"]
# Lambda gives host:port; cargo-lambda's emulator wants a scheme and a path prefix.
API = ("" if "://" in _API else "http://") + _API + "/2018-06-01/runtime/invocation/"


class Context:
    def __init__(self, headers):
        self.aws_request_id = headers.get("Lambda-Runtime-Aws-Request-Id")
        self.invoked_function_arn = headers.get("Lambda-Runtime-Invoked-Function-Arn")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bench")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = self.log_stream_name = "bench"
        deadline = int(headers.get("Lambda-Runtime-Deadline-Ms", "0"))
        # The emulator sends a relative 600000, Lambda an epoch time.
        self._deadline = deadline if deadline > 10**12 else time.time() * 1000 + deadline

    def get_remaining_time_in_millis(self):
        return int(self._deadline - time.time() * 1000)


def main():
    while True:
        with urllib.request.urlopen(API + "next", timeout=None) as r:
            headers, event = r.headers, json.load(r)
        ctx = Context(headers)
        result = handler.handler(event, ctx)
        body = json.dumps(result).encode()
        req = urllib.request.Request(API + ctx.aws_request_id + "/response", data=body, method="POST")
        urllib.request.urlopen(req).close()


if __name__ == "__main__":
    main()
