"""Conformance: the official Python SDK (inferencesh 0.6.32, from the peers directory) against
infsh-local, asserting what the SDK returns to its user in each scenario: tasks (run, wait,
stream, cancel, failures), files (upload, files in input), sessions, the async client, errors,
the platform apps its own suites call, and task webhooks.

Run through the driver, which starts infsh-local and sets INFERENCE_BASE_URL and
INFERENCE_API_KEY:

    python3 tests/conformance/py_sdk_driver.py --runtime build/dev/src/local/infsh-local \
        --peers ../shared/peers --test "$PWD/tests/conformance/py_sdk_conformance.py"
"""

import asyncio
import base64
import http.server
import json
import os
import queue
import tempfile
import threading
import time

import pytest
import requests

from inferencesh import (
    APIError,
    AsyncInference,
    Inference,
    TaskStatus,
    UploadFileOptions,
    inference,
    parse_status,
)

BASE_URL = os.environ["INFERENCE_BASE_URL"]
API_KEY = os.environ["INFERENCE_API_KEY"]


@pytest.fixture
def client():
    return Inference(api_key=API_KEY, base_url=BASE_URL)


def wait_for_status(client, task_id, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if parse_status(client.tasks.get(task_id)["status"]) == status:
            return
        time.sleep(0.01)
    raise AssertionError("task %s never reached %s" % (task_id, status.name))


def assert_non_decreasing(statuses):
    assert statuses == sorted(statuses), "statuses go backwards: %s" % statuses


# ---- tasks ------------------------------------------------------------------------------------

def test_run_waits_and_returns_the_completed_task(client):
    payload = {"text": "héllo, wörld ✓", "n": 42, "list": [1, 2.5, {"nested": None}]}
    task = client.run({"app": "infsh/echo", "input": payload})
    assert task["status"] == TaskStatus.COMPLETED
    assert task["output"] == payload
    assert task["input"] == payload
    assert task["id"].startswith("task_")
    assert "session_id" not in task
    # The namespaced API is the same call.
    assert client.tasks.run({"app": "infsh/echo", "input": {"a": 1}})["output"] == {"a": 1}


def test_wait_false_returns_the_queued_task_then_wait_for_completion(client):
    created = client.run({"app": "infsh/progress", "input": {"steps": 2, "delay_ms": 50}},
                         wait=False)
    assert parse_status(created["status"]) == TaskStatus.QUEUED
    assert created["input"] == {"steps": 2, "delay_ms": 50}
    done = client.tasks.wait_for_completion(created["id"])
    assert done["status"] == TaskStatus.COMPLETED
    assert done["output"] == {"steps_done": 2}
    got = client.tasks.get(created["id"])
    assert got["status"] == TaskStatus.COMPLETED
    assert [log["content"] for log in got["logs"]] == ["step 1/2", "step 2/2"]


def test_stream_yields_rising_statuses_and_partial_outputs(client):
    updates = list(client.run({"app": "infsh/progress", "input": {"steps": 3, "delay_ms": 60}},
                              stream=True))
    statuses = [parse_status(update["status"]) for update in updates]
    assert_non_decreasing(statuses)
    assert TaskStatus.RUNNING in statuses
    assert statuses[-1] == TaskStatus.COMPLETED
    assert statuses.count(TaskStatus.COMPLETED) == 1
    steps = [u["output"]["step"] for u in updates if isinstance(u.get("output"), dict)
             and "step" in u["output"]]
    assert steps and steps == sorted(steps)
    assert updates[-1]["output"] == {"steps_done": 3}


def test_stream_of_an_existing_task_keeps_its_result(client):
    created = client.run({"app": "infsh/progress", "input": {"steps": 2, "delay_ms": 30}},
                         wait=False)
    with client.tasks.stream(created["id"]) as stream:
        updates = list(stream)
    assert updates[-1]["status"] == TaskStatus.COMPLETED
    assert stream.result["output"] == {"steps_done": 2}
    # Following a finished task ends at once with its final state.
    assert list(client.stream_task(created["id"]))[-1]["output"] == {"steps_done": 2}


def test_cancel_stops_a_running_task_and_the_wait_reports_it(client):
    created = client.run({"app": "infsh/progress", "input": {"steps": 1000, "delay_ms": 50}},
                         wait=False)
    wait_for_status(client, created["id"], TaskStatus.RUNNING)
    assert client.tasks.cancel(created["id"]) is None
    with pytest.raises(RuntimeError, match="^task cancelled$"):
        client.tasks.wait_for_completion(created["id"])
    final = client.tasks.get(created["id"])
    assert final["status"] == TaskStatus.CANCELLED
    assert len(final["logs"]) < 1000


def test_a_failed_task_raises_the_apps_message(client):
    message = "the model ran out of ideas (code 42) — ünïcode"
    with pytest.raises(RuntimeError) as raised:
        client.run({"app": "infsh/fail", "input": {"message": message}})
    assert str(raised.value) == message


def test_setup_reaches_the_app_and_a_warm_instance_is_reused(client):
    model = "model-" + os.urandom(4).hex()
    params = {"app": "infsh/setup-counter", "setup": {"model": model}, "input": {}}
    assert client.run(params)["output"] == {"setup_calls": 1, "model": model}
    assert client.run(params)["output"] == {"setup_calls": 1, "model": model}


# ---- the platform apps the SDK's own suites call ------------------------------------------------

def test_text_templating_renders_numbered_placeholders(client):
    task = client.run({"app": "infsh/text-templating@53bk0yzk",
                       "input": {"template": "Hello {1}, {2} and {1}!",
                                 "strings": ["Pytest", "{1}"]}})
    assert task["output"] == {"text": "Hello Pytest, {1} and Pytest!"}


def test_session_test_keeps_state_per_session(client):
    first = client.run({"app": "infsh/session-test", "function": "increment",
                        "input": {"key": "n", "amount": 5}, "session": "new"})
    session = first["session_id"]
    assert first["output"] == {"key": "n", "previous": 0, "current": 5}
    with client.session("infsh/session-test", function="set_value",
                        input={"key": "k", "value": "v"}) as handle:
        other = handle.session_id
        assert other != session
        assert handle.call("get_all")["output"] == {"state": {"k": "v"}, "call_count": 2}
        assert handle.info()["status"] == "active"
    assert client.sessions.get(other)["status"] == "ended"
    again = client.run({"app": "infsh/session-test", "function": "get_all", "input": {},
                        "session": session})
    assert again["output"] == {"state": {"n": 5}, "call_count": 2}


# ---- files ------------------------------------------------------------------------------------

def test_upload_bytes_a_path_and_a_data_uri_then_fetch_them_without_the_key(client):
    raw = bytes(range(256)) * 4
    from_bytes = client.files.upload(raw, UploadFileOptions(filename="raw.bin"))
    assert from_bytes["uri"].startswith(BASE_URL + "/files/")
    assert from_bytes["filename"] == "raw.bin"
    assert from_bytes["content_type"] == "application/octet-stream"

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
        file.write("from a path\n")
    try:
        from_path = client.files.upload(file.name)
    finally:
        os.unlink(file.name)
    assert from_path["filename"] == os.path.basename(file.name)
    assert from_path["content_type"] == "text/plain"

    from_uri = client.files.upload("data:image/png;base64," +
                                   base64.b64encode(b"\x89PNG-ish").decode())
    assert from_uri["content_type"] == "image/png"

    for file_obj, expected, content_type in ((from_bytes, raw, "application/octet-stream"),
                                             (from_path, b"from a path\n", "text/plain"),
                                             (from_uri, b"\x89PNG-ish", "image/png")):
        response = requests.get(file_obj["uri"], timeout=10)  # no key: a signed URL
        assert response.status_code == 200
        assert response.content == expected
        assert response.headers["Content-Type"] == content_type


def test_files_in_input_are_uploaded_and_reach_the_app(client):
    task = client.run({"app": "infsh/file-info",
                       "input": {"file": "data:text/plain;base64," +
                                         base64.b64encode(b"one\ntwo\n").decode()}})
    assert task["input"]["file"].startswith(BASE_URL + "/files/")
    assert task["output"]["size"] == 8
    assert task["output"]["lines"] == 2
    assert requests.get(task["output"]["reversed"], timeout=10).content == b"\nowt\neno"


# ---- sessions ---------------------------------------------------------------------------------

def test_sessions_get_list_keepalive_end(client):
    first = client.run({"app": "infsh/counter", "input": {}, "session": "new",
                        "session_timeout": 30})
    session = first["session_id"]
    assert session.startswith("sess_")
    assert first["output"] == {"calls": 1}
    second = client.run({"app": "infsh/counter", "input": {}, "session": session})
    assert second["output"] == {"calls": 2}
    assert second["session_id"] == session

    info = client.sessions.get(session)
    assert info["id"] == session
    assert info["status"] == "active"
    assert info["call_count"] == 2
    assert info["idle_timeout"] == 30
    assert client.sessions.list()[0]["id"] == session
    assert client.sessions.keepalive(session)["status"] == "active"

    client.sessions.end(session)
    assert client.sessions.get(session)["status"] == "ended"
    with pytest.raises(APIError) as ended:
        client.run({"app": "infsh/counter", "input": {}, "session": session})
    assert ended.value.status_code == 410
    with pytest.raises(APIError) as missing:
        client.sessions.get("sess_missing")
    assert missing.value.status_code == 404
    assert "sess_missing" in ended.value.message or "sess_missing" in missing.value.message


def test_a_warm_call_in_a_session_is_well_under_two_seconds(client):
    first = client.run({"app": "infsh/session-test", "function": "set_value",
                        "input": {"key": "perf", "value": "1"}, "session": "new"})
    started = time.monotonic()
    second = client.run({"app": "infsh/session-test", "function": "set_value",
                         "input": {"key": "perf", "value": "2"},
                         "session": first["session_id"]})
    elapsed = time.monotonic() - started
    assert second["status"] == TaskStatus.COMPLETED
    print("warm session call: %.1f ms" % (elapsed * 1000))
    assert elapsed < 2.0


# ---- the async client --------------------------------------------------------------------------

def test_async_client_runs_streams_cancels_and_uploads():
    async def scenario():
        client = AsyncInference(api_key=API_KEY, base_url=BASE_URL)
        done = await client.run({"app": "infsh/echo", "input": {"async": True}})
        assert done["status"] == TaskStatus.COMPLETED
        assert done["output"] == {"async": True}

        created = await client.run({"app": "infsh/progress",
                                    "input": {"steps": 2, "delay_ms": 30}}, wait=False)
        assert parse_status(created["status"]) == TaskStatus.QUEUED
        updates = [u async for u in await client.run(
            {"app": "infsh/progress", "input": {"steps": 2, "delay_ms": 30}}, stream=True)]
        assert updates[-1]["status"] == TaskStatus.COMPLETED
        assert_non_decreasing([parse_status(u["status"]) for u in updates])
        assert (await client.tasks.wait_for_completion(created["id"]))["output"] == \
            {"steps_done": 2}

        running = await client.run({"app": "infsh/progress",
                                    "input": {"steps": 1000, "delay_ms": 50}}, wait=False)
        for _ in range(1000):
            if parse_status((await client.tasks.get(running["id"]))["status"]) == \
                    TaskStatus.RUNNING:
                break
            await asyncio.sleep(0.01)
        await client.tasks.cancel(running["id"])
        with pytest.raises(RuntimeError, match="^task cancelled$"):
            await client.tasks.wait_for_completion(running["id"])

        uploaded = await client.files.upload(b"async bytes",
                                             UploadFileOptions(filename="a.txt",
                                                               content_type="text/plain"))
        assert requests.get(uploaded["uri"], timeout=10).content == b"async bytes"

        first = await client.run({"app": "infsh/counter", "input": {}, "session": "new"})
        info = await client.sessions.get(first["session_id"])
        assert info["call_count"] == 1
        await client.sessions.end(first["session_id"])

    asyncio.run(scenario())


# ---- errors -----------------------------------------------------------------------------------

def test_unknown_app_and_task_raise_404_naming_them(client):
    with pytest.raises(APIError) as app:
        client.run({"app": "nobody/nothing@xyz123", "input": {}}, wait=False)
    assert app.value.status_code == 404
    assert "nobody/nothing" in app.value.message
    with pytest.raises(APIError) as task:
        client.tasks.get("task_does_not_exist")
    assert task.value.status_code == 404
    assert "task_does_not_exist" in task.value.message


def test_a_wrong_key_raises_401_without_echoing_it():
    wrong = API_KEY + "-wrong"
    intruder = inference(api_key=wrong, base_url=BASE_URL)
    with pytest.raises(APIError) as raised:
        intruder.run({"app": "infsh/echo", "input": {}})
    assert raised.value.status_code == 401
    assert wrong not in str(raised.value)
    assert wrong not in (raised.value.response_body or "")


def test_bad_input_raises_422_naming_the_field(client):
    with pytest.raises(APIError) as raised:
        client.run({"app": "infsh/progress", "input": {"steps": -1}})
    assert raised.value.status_code == 422
    assert "input.steps" in raised.value.message


# ---- webhooks ---------------------------------------------------------------------------------

class Receiver:
    """An HTTP server on loopback that records the POSTs it gets."""

    def __init__(self):
        received = self.received = queue.Queue()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                received.put((self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_a_task_webhook_receives_the_final_task(client):
    receiver = Receiver()
    try:
        task = client.run({"app": "infsh/text-templating@53bk0yzk",
                           "input": {"template": "Webhook test {1}", "strings": ["hello"]},
                           "webhook": receiver.url + "/hook?token=abc"})
        path, headers, body = receiver.received.get(timeout=10)
        assert path == "/hook?token=abc"
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert payload["event"] == "task.completed"
        assert payload["data"]["id"] == task["id"]
        assert payload["data"]["status"] == TaskStatus.COMPLETED
        assert payload["data"]["output"] == {"text": "Webhook test hello"}
        assert payload["data"] == client.tasks.get(task["id"])
    finally:
        receiver.close()


def test_a_webhook_at_the_runtime_itself_is_refused(client):
    port = BASE_URL.rsplit(":", 1)[1]
    for url in ("%s/apps/run" % BASE_URL, "http://localhost:%s/" % port):
        with pytest.raises(APIError) as raised:
            client.run({"app": "infsh/echo", "input": {}, "webhook": url}, wait=False)
        assert raised.value.status_code == 400
        assert "webhook" in raised.value.message
