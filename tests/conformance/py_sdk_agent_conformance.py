"""Conformance: the official Python SDK's headless Agent (inferencesh 0.6.32, from the peers
directory) against infsh-local's agent and chat API, with agents whose core is
infsh/scripted-llm: Agent.send_message with callbacks (on_message, on_tool_call),
submit_tool_result (text and a widget action), get_chat, stop_chat, stream_messages, run and
reset, for template agents (served with --agent from conformance/agents/) and ad-hoc ones.

Run through the driver, which starts infsh-local and sets INFERENCE_BASE_URL and
INFERENCE_API_KEY:

    python3 tests/conformance/py_sdk_driver.py --runtime build/dev/src/local/infsh-local \
        --peers ../shared/peers \
        --agent conformance/greeter=tests/conformance/agents/greeter.json \
        --agent conformance/weather=tests/conformance/agents/weather.json \
        --test "$PWD/tests/conformance/py_sdk_agent_conformance.py"
"""

import json
import os

import pytest

from inferencesh import Inference

BASE_URL = os.environ["INFERENCE_BASE_URL"]
API_KEY = os.environ["INFERENCE_API_KEY"]

WEATHER_TOOL = {
    "name": "get_weather",
    "type": "client",
    "client": {"input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                                "required": ["city"]}},
}

# Ad-hoc: asks for the weather, then quotes the result (as the weather template does).
WEATHER_CONFIG = {
    "name": "py-conformance-weather",
    "system_prompt": "You tell the weather.",
    "core_app": {"ref": "infsh/scripted-llm", "setup": {"steps": [
        {"when": {"user_text_contains": "weather"}, "text": "Let me check.",
         "tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"when": {"tool_result_of": "get_weather"}, "text": "It is {{last_tool_result}} in Paris."},
    ]}},
    "tools": [WEATHER_TOOL],
}

# Ad-hoc: finishes with a structured output.
FINISHER_CONFIG = {
    "name": "py-conformance-finisher",
    "core_app": {"ref": "infsh/scripted-llm", "setup": {"steps": [], "default": {
        "text": "Done.", "finish": {"answer": "the answer to {{user_text}}"}}}},
    "internal_tools": {"finish": True},
    "output_schema": {"type": "object", "properties": {"answer": {"type": "string"}},
                      "required": ["answer"]},
}

SLOW_TEXT = "This answer is streamed very slowly so that it can be stopped midway through."
SLOW_CONFIG = {
    "name": "py-conformance-slow",
    "core_app": {"ref": "infsh/scripted-llm", "setup": {
        "chunk_size": 2, "delay_ms": 50, "steps": [], "default": {"text": SLOW_TEXT}}},
}


@pytest.fixture
def client():
    return Inference(api_key=API_KEY, base_url=BASE_URL)


def text_of(message):
    return "".join(c.get("text") or "" for c in message.get("content") or []
                   if c.get("type") == "text")


def latest_by_id(messages):
    latest = {}
    for message in messages:
        latest[message["id"]] = message
    return latest


def idle_chat(agent, roles):
    """The agent's chat, checked: idle, messages in order with these roles, all of this chat."""
    chat = agent.get_chat()
    assert chat is not None, "get_chat returned nothing"
    assert chat["id"] == agent.chat_id
    assert chat["status"] == "idle", "chat status %r" % chat["status"]
    messages = chat["chat_messages"]
    orders = [m["order"] for m in messages]
    assert orders == sorted(orders), "chat_messages out of order: %s" % orders
    assert [m["role"] for m in messages] == roles
    assert all(m["chat_id"] == chat["id"] for m in messages)
    return chat


def test_template_agent_send_message_with_on_message_blocks_until_the_turn_ends(client):
    agent = client.agent("conformance/greeter@latest")
    assert agent.chat_id is None
    seen = []
    returned = agent.send_message("hi there", on_message=seen.append)
    assert agent.chat_id and agent.chat_id.startswith("chat_")
    assert returned["role"] == "assistant"
    assert returned["chat_id"] == agent.chat_id
    final = latest_by_id(seen).get(returned["id"])
    assert final is not None, "on_message never saw the assistant message"
    assert final["status"] == "ready"
    assert text_of(final) == "Hello from turn 0: hi there"
    # The text only grew (how many pieces arrive apart depends on timing: updates made before
    # the stream is written arrive as one).
    texts = [text_of(m) for m in seen if m["id"] == returned["id"]]
    assert all(later.startswith(earlier) for earlier, later in zip(texts, texts[1:])), texts

    # The same chat for the next message.
    chat_id = agent.chat_id
    seen = []
    returned = agent.send_message("again", on_message=seen.append)
    assert agent.chat_id == chat_id
    assert text_of(latest_by_id(seen)[returned["id"]]) == "Hello from turn 1: again"
    chat = idle_chat(agent, ["user", "assistant", "user", "assistant"])
    assert text_of(chat["chat_messages"][2]) == "again"


@pytest.mark.parametrize("agent_ref", ["conformance/weather@v1", "ad-hoc"])
def test_on_tool_call_and_submit_tool_result_make_the_round_trip(client, agent_ref):
    agent = client.agent(WEATHER_CONFIG if agent_ref == "ad-hoc" else agent_ref)
    calls = []

    def on_tool_call(call):
        calls.append(call)
        agent.submit_tool_result(call.id, "sunny")

    seen = []
    agent.send_message("What is the weather?", on_message=seen.append,
                       on_tool_call=on_tool_call)
    assert len(calls) == 1, calls
    assert calls[0].name == "get_weather"
    assert calls[0].args == {"city": "Paris"}

    chat = idle_chat(agent, ["user", "assistant", "assistant"])
    invocation = chat["chat_messages"][1]["tool_invocations"][0]
    assert invocation["id"] == calls[0].id
    assert invocation["type"] == "client"
    assert invocation["status"] == "completed"
    assert invocation["result"] == "sunny"
    answer = chat["chat_messages"][2]
    assert text_of(answer) == "It is sunny in Paris."
    assert text_of(latest_by_id(seen)[answer["id"]]) == "It is sunny in Paris."


def test_submit_tool_result_with_a_widget_action_sends_its_json_text(client):
    agent = client.agent(WEATHER_CONFIG)
    action = {"action": {"type": "confirm", "payload": {"sky": "clear"}},
              "form_data": {"unit": "C"}}
    agent.send_message("weather?",
                       on_tool_call=lambda call: agent.submit_tool_result(call.id, action))
    chat = idle_chat(agent, ["user", "assistant", "assistant"])
    result = chat["chat_messages"][1]["tool_invocations"][0]["result"]
    assert json.loads(result) == action
    # A second result for the same invocation is refused, with the reason.
    with pytest.raises(RuntimeError) as refused:
        agent.submit_tool_result(chat["chat_messages"][1]["tool_invocations"][0]["id"], "again")
    assert "not waiting" in str(refused.value) or "completed" in str(refused.value), \
        str(refused.value)


def test_stream_messages_follows_a_turn_started_without_callbacks(client):
    agent = client.agent("conformance/greeter@latest")
    with pytest.raises(RuntimeError):
        next(agent.stream_messages())  # no chat yet
    returned = agent.send_message("streamed")  # no callbacks: returns at once
    assert returned["status"] == "pending"
    final = None
    for message in agent.stream_messages():
        assert message["chat_id"] == agent.chat_id
        if message["id"] == returned["id"] and message["status"] == "ready":
            final = message
            break
    assert final is not None
    assert text_of(final) == "Hello from turn 0: streamed"
    idle_chat(agent, ["user", "assistant"])


def test_stop_chat_mid_stream_cancels_the_answer_and_leaves_the_chat_idle(client):
    agent = client.agent(SLOW_CONFIG)
    agent.stop_chat()  # no chat: nothing to stop
    returned = agent.send_message("go")
    stopped = False
    final = None
    for message in agent.stream_messages():
        if message["id"] != returned["id"]:
            continue
        if not stopped and text_of(message):
            agent.stop_chat()
            stopped = True
        if message["status"] != "pending":
            final = message
            break
    assert stopped, "no text arrived before the turn ended"
    assert final["status"] == "cancelled"
    assert len(text_of(final)) < len(SLOW_TEXT), text_of(final)
    chat = idle_chat(agent, ["user", "assistant"])
    assert chat["chat_messages"][1]["status"] == "cancelled"


def test_run_with_a_callback_returns_the_finish_output(client):
    agent = client.agent(FINISHER_CONFIG)
    output = agent.run("life", on_message=lambda message: None)
    assert output == {"answer": "the answer to life"}
    assert idle_chat(agent, ["user", "assistant"])["output"] == output


def test_get_chat_and_reset(client):
    agent = client.agent("conformance/greeter@latest")
    assert agent.get_chat() is None
    agent.send_message("one", on_message=lambda message: None)
    first = agent.chat_id
    idle_chat(agent, ["user", "assistant"])

    agent.reset()
    assert agent.chat_id is None
    assert agent.get_chat() is None
    agent.send_message("two", on_message=lambda message: None)
    assert agent.chat_id not in (None, first)
    chat = idle_chat(agent, ["user", "assistant"])
    assert text_of(chat["chat_messages"][1]) == "Hello from turn 0: two"
    old = agent.get_chat(first)
    assert old["id"] == first
    assert text_of(old["chat_messages"][1]) == "Hello from turn 0: one"


def test_an_unknown_template_raises_with_the_runtimes_reason(client):
    agent = client.agent("conformance/nobody@latest")
    with pytest.raises(RuntimeError) as refused:
        agent.send_message("hello")
    assert "conformance/nobody" in str(refused.value)
