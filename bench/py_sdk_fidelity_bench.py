"""Fidelity figures measured with the official Python SDK against infsh-local:

- warm session calls: `client.run(...)` (create, then follow the stream to completed) of a call
  in an open session, as the SDK's sessions suite times it ("well under 2 s");
- webhook delivery: how long after a task's final state (its `updated_at`) the webhook
  receiver has the POST.

    python3 bench/py_sdk_fidelity_bench.py --runtime build/release/src/local/infsh-local \
        --peers ../shared/peers [--calls 200] [--webhooks 200] [--session-app infsh/session-test]

The Python SDK comes from the peers directory; it needs pydantic v2, requests and tqdm (Debian's
dist-packages are searched after the interpreter's own, as tests/conformance/py_sdk_driver.py
does). `--session-app infsh/counter` times warm calls on a runtime
that lacks infsh/session-test; `--webhooks 0` skips the webhook part.
"""

import argparse
import datetime
import http.server
import json
import os
import queue
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(name, millis):
    print("%-34s n=%-4d median %7.2f ms   p90 %7.2f ms   max %7.2f ms" %
          (name, len(millis), statistics.median(millis), percentile(millis, 0.9), max(millis)),
          flush=True)


def start_runtime(program):
    key = "sk-bench-" + secrets.token_hex(8)
    process = subprocess.Popen([program, "--port", "0"], stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=dict(os.environ, INFSH_LOCAL_API_KEY=key))
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        process.kill()
        sys.exit("infsh-local printed no URL")
    threading.Thread(target=process.stdout.read, daemon=True).start()
    return process, url, key


class Receiver:
    def __init__(self):
        received = self.received = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.put((time.time(), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def rfc3339_seconds(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--peers", required=True)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--webhooks", type=int, default=200)
    parser.add_argument("--session-app", default="infsh/session-test")
    args = parser.parse_args()

    sys.path.insert(0, os.path.join(os.path.abspath(args.peers), "sdk-py", "src"))
    sys.path.append("/usr/lib/python3/dist-packages")  # Debian's tqdm, after our own packages
    from inferencesh import Inference  # noqa: E402  (path set above)

    process, url, key = start_runtime(args.runtime)
    try:
        client = Inference(api_key=key, base_url=url)
        session_call = {"app": args.session_app, "input": {}}
        if args.session_app == "infsh/session-test":
            session_call = {"app": args.session_app, "function": "set_value",
                            "input": {"key": "perf", "value": "1"}}
        first = client.run(dict(session_call, session="new"))
        warm = []
        for _ in range(args.calls):
            started = time.perf_counter()
            client.run(dict(session_call, session=first["session_id"]))
            warm.append((time.perf_counter() - started) * 1000)
        summary("warm session call (%s)" % args.session_app, warm)

        if args.webhooks > 0:
            receiver = Receiver()
            for _ in range(args.webhooks):
                client.run({"app": "infsh/echo", "input": {"n": 1}, "webhook": receiver.url})
            delays = []
            for _ in range(args.webhooks):
                try:
                    arrived, body = receiver.received.get(timeout=10)
                except queue.Empty:
                    break
                task = json.loads(body)["data"]
                delays.append((arrived - rfc3339_seconds(task["updated_at"])) * 1000)
            if len(delays) < args.webhooks:
                print("webhook POST after completion: %d of %d delivered within 10 s" %
                      (len(delays), args.webhooks), flush=True)
            if delays:
                summary("webhook POST after completion", delays)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(15)


if __name__ == "__main__":
    main()
