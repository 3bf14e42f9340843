"""Runs the official Python SDK (inferencesh 0.6.32, from the peers directory beside the
repository) against infsh-local: either one of the SDK's own integration suites, unchanged,
or this repository's py_sdk_conformance.py.

    python3 py_sdk_driver.py --runtime build/dev/src/local/infsh-local \
        --peers ../shared/peers --test tests/test_integration.py

`--agent NS/NAME=FILE` (repeatable) serves an agent template, as infsh-local's own option does.
`--test` is a path inside the SDK's checkout (its own suites) or an absolute path (ours). The
driver starts infsh-local on a free port with a random API key, sets INFERENCE_BASE_URL and
INFERENCE_API_KEY, runs pytest on the file, and stops the runtime with SIGTERM (it must exit
0). It exits 77 (CTest's SKIP_RETURN_CODE) when the peers or a Python package are missing,
saying which, and fails when pytest skipped anything: a suite whose tests did not run has not
passed.

Python: the SDK needs pydantic v2, which Debian 12 does not package, so the interpreter is the
first of (this one, /usr/bin/python3) that has every module the run needs; Debian's
dist-packages (pytest, httpx, aiohttp, ... installed by scripts/install-deps.sh for
/usr/bin/python3) are appended to its path, after its own packages, so they fill gaps without
shadowing newer versions. The driver writes nothing into the peers' directory (no
.pytest_cache, no __pycache__).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ElementTree

SKIP = 77
PYTEST_TIMEOUT = 240  # seconds; below the CTest timeout, so the driver reports it
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"

# Import name -> (what it is for, where it comes from).
MODULES = {
    "pydantic": ("the SDK's models (v2)", "pip: pydantic>=2 (Debian 12 has only v1)"),
    "requests": ("the SDK's blocking client", "Debian: python3-requests"),
    "tqdm": ("the SDK's progress bars", "Debian: python3-tqdm"),
    "aiohttp": ("the SDK's async client", "Debian: python3-aiohttp"),
    "pytest": ("running the suites", "Debian: python3-pytest"),
    "pytest_asyncio": ("the async tests", "Debian: python3-pytest-asyncio"),
    "httpx": ("the streamable suite", "Debian: python3-httpx"),
}

# Lines the SDK's suites print instead of failing when the server falls short (they then
# `return` and count as passed); seeing one means the runtime did not do what was asked.
SOFT_SKIPS = [
    "Skipping - server returned non-NDJSON",
    "Skipping stream_get test",
    "Server does not yet support NDJSON",
    "INFERENCE_API_KEY not set",
]

PROBE = r"""
import importlib, json, sys
sys.path.append(%r)
missing = []
for name in %r:
    try:
        module = importlib.import_module(name)
    except Exception as error:
        missing.append("%%s (%%s)" %% (name, error.__class__.__name__))
        continue
    if name == "pydantic" and not getattr(module, "VERSION", "1").startswith("2"):
        missing.append("pydantic (version %%s, the SDK needs 2)" %% module.VERSION)
print(json.dumps(missing))
"""

# Runs pytest with Debian's dist-packages after the interpreter's own.
PYTEST_BOOT = (
    "import sys; sys.path.append(%r); import pytest; sys.exit(pytest.main(sys.argv[1:]))"
    % DEBIAN_DIST_PACKAGES
)


def die_with_parent():
    """In a child: SIGTERM when the driver dies (say, killed by CTest's timeout)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def skip(message):
    print("SKIPPED: " + message, flush=True)
    sys.exit(SKIP)


def fail(message):
    print("FAILED: " + message, flush=True)
    sys.exit(1)


def candidate_interpreters():
    seen = set()
    for path in (sys.executable, shutil.which("python3"), "/usr/bin/python3"):
        if not path or not os.path.exists(path):
            continue
        real = os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            yield path


def choose_interpreter(sdk_src):
    """The first interpreter that imports every module; skips naming what is missing."""
    reports = []
    lacking = set()
    env = dict(os.environ, PYTHONPATH=sdk_src, PYTHONDONTWRITEBYTECODE="1")
    for interpreter in candidate_interpreters():
        probe = PROBE % (DEBIAN_DIST_PACKAGES, list(MODULES) + ["inferencesh"])
        result = subprocess.run([interpreter, "-c", probe], env=env, capture_output=True,
                                text=True, timeout=120)
        try:
            missing = json.loads(result.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            missing = ["(the probe failed: %s)" % result.stderr.strip()[-300:]]
        if not missing:
            return interpreter
        reports.append("%s lacks %s" % (interpreter, ", ".join(missing)))
        lacking.update(entry.split(" ")[0] for entry in missing)
    hints = "; ".join("%s for %s: %s" % (name, why, source)
                      for name, (why, source) in MODULES.items() if name in lacking)
    skip("no Python interpreter can run the SDK's tests: " + "; ".join(reports) +
         (". Needed: " + hints if hints else "") +
         " (scripts/install-deps.sh installs the Debian packages)")


class RuntimeProcess:
    """infsh-local on a free port with an API key; stderr is kept for failure messages."""

    def __init__(self, program, extra_args=()):
        self.api_key = "sk-conformance-" + secrets.token_hex(12)
        env = dict(os.environ, INFSH_LOCAL_API_KEY=self.api_key)
        self.process = subprocess.Popen([program, "--port", "0", *extra_args],
                                        stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        env=env, text=True, preexec_fn=die_with_parent)
        self.stderr_lines = []
        threading.Thread(target=self._collect_stderr, daemon=True).start()
        first = []
        reader = threading.Thread(target=lambda: first.append(self.process.stdout.readline()),
                                  daemon=True)
        reader.start()
        reader.join(15)
        line = first[0].strip() if first else ""
        if not re.fullmatch(r"http://127\.0\.0\.1:\d+", line):
            self.process.kill()
            fail("infsh-local printed no URL (first line %r):\n%s" % (line, self.stderr()))
        self.url = line
        # Keep draining stdout so the runtime never blocks on a full pipe.
        threading.Thread(target=self.process.stdout.read, daemon=True).start()

    def _collect_stderr(self):
        for line in self.process.stderr:
            self.stderr_lines.append(line)

    def stderr(self):
        return "".join(self.stderr_lines[-50:])

    def stop(self):
        """SIGTERM, then the exit status (None when it had to be killed)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return None


def junit_counts(path):
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, "0"))
    skipped = [case.get("classname", "") + "::" + case.get("name", "")
               for case in root.iter("testcase") if case.find("skipped") is not None]
    return counts, skipped


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime", required=True, help="the infsh-local program")
    parser.add_argument("--peers", required=True, help="the peers directory (holds sdk-py/)")
    parser.add_argument("--test", required=True,
                        help="a test file: relative to sdk-py/, or an absolute path")
    parser.add_argument("--agent", action="append", default=[], metavar="NS/NAME=FILE",
                        help="an agent template for infsh-local (its --agent); repeatable")
    args = parser.parse_args()

    sdk = os.path.join(os.path.abspath(args.peers), "sdk-py")
    sdk_src = os.path.join(sdk, "src")
    if not os.path.isdir(os.path.join(sdk_src, "inferencesh")):
        skip("the official Python SDK is not at %s (the peers directory; configure with "
             "-DINFERENCESH_PEERS_DIR=<dir holding sdk-py/>)" % sdk)
    test = args.test if os.path.isabs(args.test) else os.path.join(sdk, args.test)
    if not os.path.isfile(test):
        skip("%s does not exist" % test)
    if not os.access(args.runtime, os.X_OK):
        fail("%s is not an executable infsh-local" % args.runtime)

    interpreter = choose_interpreter(sdk_src)
    runtime = RuntimeProcess(args.runtime,
                             [arg for agent in args.agent for arg in ("--agent", agent)])
    print("infsh-local at %s; %s runs pytest on %s" % (runtime.url, interpreter, test),
          flush=True)
    with tempfile.TemporaryDirectory(prefix="py-sdk-") as scratch:
        report = os.path.join(scratch, "junit.xml")
        env = dict(os.environ,
                   INFERENCE_BASE_URL=runtime.url,
                   INFERENCE_API_KEY=runtime.api_key,
                   PYTHONPATH=sdk_src,
                   PYTHONDONTWRITEBYTECODE="1",
                   INFSH_CONFORMANCE_SCRATCH=scratch)
        command = [interpreter, "-c", PYTEST_BOOT, "-p", "no:cacheprovider", "-rA",
                   "--junitxml", report, test]
        try:
            result = subprocess.run(command, env=env, cwd=scratch, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True, timeout=PYTEST_TIMEOUT,
                                    preexec_fn=die_with_parent)
            output = result.stdout
        except subprocess.TimeoutExpired as expired:
            output = expired.stdout or ""
            if isinstance(output, bytes):
                output = output.decode("utf-8", "replace")
            result = None
        print(output, flush=True)
        status = runtime.stop()

        problems = []
        if result is None:
            problems.append("pytest did not finish within %d s" % PYTEST_TIMEOUT)
        elif result.returncode != 0:
            problems.append("pytest exited with status %d" % result.returncode)
        if os.path.exists(report):
            counts, skipped = junit_counts(report)
            print("tests %(tests)d, failures %(failures)d, errors %(errors)d, "
                  "skipped %(skipped)d" % counts, flush=True)
            if counts["tests"] == 0:
                problems.append("pytest ran no test")
            if skipped:
                problems.append("pytest skipped %s" % ", ".join(skipped))
        else:
            problems.append("pytest wrote no report")
        for marker in SOFT_SKIPS:
            if marker in output:
                problems.append("a test printed %r instead of failing" % marker)
        if status != 0:
            problems.append("infsh-local exited with %s after SIGTERM:\n%s" %
                            ("a kill" if status is None else "status %d" % status,
                             runtime.stderr()))
        if problems:
            fail("; ".join(problems))


if __name__ == "__main__":
    main()
