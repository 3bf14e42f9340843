// The agent loop of ChatEngine: a turn's steps (the core run as a task, its streamed text, its
// tool calls), the tools by type, and the end of a turn.

#include <algorithm>

#include "chats/agent_config.hpp"
#include "chats/chat_engine.hpp"
#include "chats/chat_state.hpp"
#include "chats/output_schema.hpp"
#include "chats/tool_http.hpp"
#include "chats/tool_requests.hpp"
#include "common/json_parse.hpp"
#include "http/api_envelope.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"
#include "tasks/run_request.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

using nlohmann::json;

namespace {

std::string text_of(const json& object, const char* key, std::string fallback = {}) {
  if (!object.is_object()) return fallback;
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

const json& object_or_empty(const json& object, const char* key) {
  static const json empty = json::object();
  if (!object.is_object()) return empty;
  const auto it = object.find(key);
  return it != object.end() && it->is_object() ? *it : empty;
}

// A File object for the core: what a FileRef says of the file.
json file_of(const json& ref) {
  json file = json::object();
  for (const char* key : {"uri", "filename", "content_type", "size"}) {
    if (ref.contains(key) && !ref.at(key).is_null()) file[key] = ref.at(key);
  }
  return file;
}

// The text a tool's result gives the core for a structured value.
std::string result_text(const json& value) {
  return value.is_string() ? value.get<std::string>() : common::compact_json(value);
}

// Task statuses (tasks/task_record.hpp) as they appear in a TaskDTO.
constexpr int kTaskCompleted = 10;
constexpr int kTaskFailed = 11;

}  // namespace

// ---- the loop thread ----------------------------------------------------------------------------

void ChatEngine::post(std::function<void()> job) {
  if (loop_stopped_) return;  // shutting down: nothing runs on the caller's thread
  loop_.post(std::move(job));
}

void ChatEngine::follow_task(const std::string& task_id,
                             std::function<void(const TaskView&, bool)> handle) {
  auto shared = std::make_shared<std::function<void(const TaskView&, bool)>>(std::move(handle));
  // Called under the TaskEngine's lock: copies what it needs (never the input, which holds the
  // whole conversation) and posts.
  tasks_.subscribe_record(task_id, [this, shared](const TaskRecord& task, bool terminal) {
    TaskView view{task.id, static_cast<int>(task.status), task.output, task.error,
                  task.session_id.value_or("")};
    post([shared, view = std::move(view), terminal] { (*shared)(view, terminal); });
  });
}

// ---- turns --------------------------------------------------------------------------------------

void ChatEngine::begin_turn_locked(ChatState& state, MessageRecord& user,
                                   MessageRecord& assistant) {
  // The sort below moves the records: they are found again by id.
  const std::string user_id = user.id;
  const std::string assistant_id = assistant.id;
  if (user.status == MessageStatus::queued) {  // after whatever the turn before it added
    user.order = next_order_locked(state);
    assistant.order = user.order + 1;
    std::stable_sort(
        state.messages.begin(), state.messages.end(),
        [](const MessageRecord& a, const MessageRecord& b) { return a.order < b.order; });
  }
  MessageRecord& u = *state.message(user_id);
  MessageRecord& a = *state.message(assistant_id);
  u.status = MessageStatus::ready;
  a.status = MessageStatus::pending;
  touch_locked(u);
  touch_locked(a);
  state.chat.turn = TurnState{user_id, assistant_id, 0};
  state.chat.status = ChatStatus::busy;
  state.watched = !state.observers.empty();
  state.unseen_turn.clear();
  state.finished = false;
  state.delta_seq = 0;
  touch_locked(state.chat);
  save_locked(u);
  save_locked(a);
  save_locked(state.chat);
  emit_message_locked(state, u);
  emit_message_locked(state, a);
  emit_chat_locked(state);
  start_turn_step_locked(state);
}

void ChatEngine::run_step(const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  ChatState* state = find_locked(chat_id);
  if (state == nullptr || !state->chat.turn || state->held) return;
  start_step_locked(*state);
}

void ChatEngine::start_step_locked(ChatState& state) {
  MessageRecord* message = state.current();
  if (message == nullptr || message->status != MessageStatus::pending ||
      !message->task_id.empty()) {
    return;
  }
  TurnState& turn = *state.chat.turn;
  if (turn.steps >= options_.max_steps) {
    fail_turn_locked(state, "the agent stopped after " + std::to_string(turn.steps) +
                                " steps without an answer (the limit, --agent-max-steps, is " +
                                std::to_string(options_.max_steps) + ")");
    return;
  }
  const json& config = state.chat.agent_config;
  const json& core = object_or_empty(config, "core_app");
  const std::string ref = text_of(core, "ref");
  if (ref.empty()) {
    fail_turn_locked(state, "the agent has no core_app.ref: nothing to think with");
    return;
  }
  json input = object_or_empty(core, "input");
  const json turn_input = core_input_locked(state);
  for (const auto& [key, value] : turn_input.items()) input[key] = value;
  json body = {{"app", ref}, {"input", std::move(input)}};
  if (core.contains("setup") && !core.at("setup").is_null()) body["setup"] = core.at("setup");
  json task;
  try {
    RunRequest request = parse_run_request(common::compact_json(body), apps_);
    task = tasks_.create(std::move(request));
  } catch (const std::exception& e) {
    fail_turn_locked(state, "the agent's core app '" + ref + "' cannot run: " + e.what());
    return;
  }
  ++turn.steps;
  message->task_id = text_of(task, "id");
  state.core_task = message->task_id;
  touch_locked(*message);
  save_locked(*message);
  save_locked(state.chat);
  emit_message_locked(state, *message);
  follow_task(message->task_id, [this, chat_id = state.chat.id, message_id = message->id](
                                    const TaskView& view, bool terminal) {
    on_core_update(chat_id, message_id, view, terminal);
  });
}

json ChatEngine::core_input_locked(const ChatState& state) const {
  const json& config = state.chat.agent_config;
  const std::string& current = state.chat.turn->assistant_message_id;
  json conversation = json::array();
  for (const MessageRecord& message : state.messages) {
    if (message.id == current) break;  // what comes after is queued for later turns
    if (message.role == MessageRole::user) {
      if (message.status != MessageStatus::ready) continue;
      json item = {{"role", "user"}, {"text", message.text}};
      json images = json::array();
      json files = json::array();
      for (const json& ref : message.attachments) {
        (text_of(ref, "content_type").rfind("image/", 0) == 0 ? images : files)
            .push_back(file_of(ref));
      }
      if (!images.empty()) item["images"] = std::move(images);
      if (!files.empty()) item["files"] = std::move(files);
      conversation.push_back(std::move(item));
      continue;
    }
    if (message.role != MessageRole::assistant || message.status == MessageStatus::queued) continue;
    json calls = json::array();
    json results = json::array();
    for (const ToolInvocationRecord& invocation : message.invocations) {
      if (!is_settled(invocation.status)) continue;
      calls.push_back({{"id", invocation.call_id},
                       {"type", "function"},
                       {"function",
                        {{"name", invocation.name},
                         {"arguments", common::compact_json(invocation.arguments)}}}});
      results.push_back(
          {{"role", "tool"}, {"text", invocation.result}, {"tool_call_id", invocation.call_id}});
    }
    if (message.text.empty() && calls.empty()) continue;
    json item = {{"role", "assistant"}, {"text", message.text}};
    if (!message.reasoning.empty()) item["reasoning"] = message.reasoning;
    if (!calls.empty()) item["tool_calls"] = std::move(calls);
    conversation.push_back(std::move(item));
    for (json& result : results) conversation.push_back(std::move(result));
  }
  json input = {{"system_prompt", text_of(config, "system_prompt")}};
  // The newest message is the new one; the rest is the context.
  json last = conversation.empty() ? json{{"role", "user"}, {"text", ""}} : conversation.back();
  if (!conversation.empty()) conversation.erase(conversation.size() - 1);
  input["context"] = std::move(conversation);
  for (const auto& [key, value] : last.items()) input[key] = value;
  input.erase("tool_calls");
  const json tools = core_tools(config);
  if (!tools.empty()) input["tools"] = tools;
  return input;
}

void ChatEngine::on_core_update(const std::string& chat_id, const std::string& message_id,
                                const TaskView& task, bool terminal) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  ChatState* state = find_locked(chat_id);
  if (state == nullptr) return;
  MessageRecord* message = state->current();
  if (message == nullptr || message->id != message_id ||
      message->status != MessageStatus::pending) {
    return;  // stopped, or the step moved on
  }
  const json& output = task.output;
  if (output.is_object()) {
    const std::string response = text_of(output, "response");
    const std::string reasoning = text_of(output, "reasoning");
    json delta = json::object();
    if (response.size() > message->text.size() &&
        response.compare(0, message->text.size(), message->text) == 0) {
      delta["response"] = response.substr(message->text.size());
    }
    if (reasoning.size() > message->reasoning.size() &&
        reasoning.compare(0, message->reasoning.size(), message->reasoning) == 0) {
      delta["reasoning"] = reasoning.substr(message->reasoning.size());
    }
    const bool changed = response != message->text || reasoning != message->reasoning;
    message->text = response;
    message->reasoning = reasoning;
    if (!delta.empty()) {
      emit_locked(*state, "delta",
                  common::compact_json({{"delta", std::move(delta)},
                                        {"seq", ++state->delta_seq},
                                        {"resource_id", message->id}}));
    }
    if (changed && !terminal) {
      touch_locked(*message);
      emit_message_locked(*state, *message);
    }
  }
  if (!terminal) return;
  state->core_task.clear();
  if (task.status == kTaskCompleted) {
    finish_step_locked(*state, *message, output);
  } else if (task.status == kTaskFailed) {
    const std::string error = task.error.empty() ? "the core app failed" : task.error;
    fail_turn_locked(*state, "the agent's core app failed: " + error);
  } else {
    message->status = MessageStatus::cancelled;
    message->error = "the core's task was cancelled";
    touch_locked(*message);
    save_locked(*message);
    emit_message_locked(*state, *message);
    end_turn_locked(*state);
  }
}

void ChatEngine::finish_step_locked(ChatState& state, MessageRecord& message, const json& output) {
  message.text = text_of(output, "response");
  message.reasoning = text_of(output, "reasoning");
  message.usage = output.is_object() && output.contains("usage") ? output.at("usage") : json();
  const json& config = state.chat.agent_config;
  const std::string now = rfc3339_now();
  const json calls =
      output.is_object() && output.contains("tool_calls") && output.at("tool_calls").is_array()
          ? output.at("tool_calls")
          : json::array();
  std::vector<std::string> unusable;  // per invocation: why it cannot run ("" when it can)
  for (std::size_t i = 0; i < calls.size(); ++i) {
    const json& call = calls[i];
    const json& function = object_or_empty(call, "function");
    ToolInvocationRecord invocation;
    invocation.id = new_id("tinv");
    invocation.chat_id = state.chat.id;
    invocation.message_id = message.id;
    invocation.call_id = text_of(call, "id", "call_" + std::to_string(i + 1));
    invocation.name = text_of(function, "name");
    invocation.created_at = invocation.updated_at = now;
    std::string problem;
    const json arguments = function.contains("arguments") ? function.at("arguments") : json();
    if (arguments.is_object()) {
      invocation.arguments = arguments;
    } else if (arguments.is_string()) {
      try {
        const auto& text = arguments.get_ref<const std::string&>();
        invocation.arguments = text.empty() ? json::object() : json::parse(text);
        if (!invocation.arguments.is_object()) throw std::invalid_argument("not an object");
      } catch (const std::exception&) {
        invocation.arguments = json::object();
        problem = "the arguments of this call are not a JSON object: " +
                  arguments.get<std::string>().substr(0, 200);
      }
    } else if (!arguments.is_null()) {
      problem = std::string("the arguments of this call are not a JSON object but ") +
                arguments.type_name();
    }
    if (const json* tool = find_tool(config, invocation.name)) {
      invocation.type = text_of(*tool, "type");
      invocation.display_name = text_of(*tool, "display_name");
    } else {
      invocation.type = "internal";
      const std::string group = internal_tool_group(invocation.name);
      if (problem.empty() && (group.empty() || !internal_tool_enabled(config, group))) {
        problem = "there is no tool called '" + invocation.name + "'";
      }
    }
    unusable.push_back(std::move(problem));
    message.invocations.push_back(std::move(invocation));
  }
  message.status = MessageStatus::ready;
  touch_locked(message);
  save_locked(message);
  for (const auto& invocation : message.invocations) save_locked(invocation);
  emit_message_locked(state, message);
  for (std::size_t i = 0; i < message.invocations.size(); ++i) {
    ToolInvocationRecord& invocation = message.invocations[i];
    if (!unusable[i].empty()) {
      settle_locked(state, invocation, InvocationStatus::failed, unusable[i]);
    } else {
      dispatch_locked(state, invocation);
    }
    if (!state.chat.turn) return;  // a tool ended the turn
  }
  advance_locked(state);
}

void ChatEngine::dispatch_locked(ChatState& state, ToolInvocationRecord& invocation) {
  const json* tool = find_tool(state.chat.agent_config, invocation.name);
  if (tool != nullptr && tool->value("require_approval", false)) {
    const json& allowed =
        state.chat.agent_data.is_object() && state.chat.agent_data.contains("always_allowed_tools")
            ? state.chat.agent_data.at("always_allowed_tools")
            : json::array();
    if (!allowed.is_array() ||
        std::find(allowed.begin(), allowed.end(), invocation.name) == allowed.end()) {
      invocation.status = InvocationStatus::awaiting_approval;
      invocation.updated_at = rfc3339_now();
      save_locked(invocation);
      if (MessageRecord* message = state.message(invocation.message_id)) {
        emit_message_locked(state, *message);
      }
      return;
    }
  }
  execute_locked(state, invocation);
}

void ChatEngine::execute_locked(ChatState& state, ToolInvocationRecord& invocation) {
  const json* tool = find_tool(state.chat.agent_config, invocation.name);
  const std::string& type = invocation.type;
  const auto set_status = [&](InvocationStatus status) {
    invocation.status = status;
    invocation.updated_at = rfc3339_now();
    save_locked(invocation);
    if (MessageRecord* message = state.message(invocation.message_id)) {
      emit_message_locked(state, *message);
    }
  };
  if (type == "internal" || tool == nullptr) {
    run_internal_tool_locked(state, invocation);
  } else if (type == "client") {
    set_status(InvocationStatus::awaiting_input);
  } else if (type == "app") {
    run_app_tool_locked(state, invocation, *tool);
  } else if (type == "agent") {
    run_agent_tool_locked(state, invocation, *tool);
  } else if (type == "http" || type == "hook") {
    run_request_tool_locked(state, invocation, *tool);
  } else if (type == "mcp") {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "MCP tools are not available in infsh-local (tool '" + invocation.name +
                      "' needs the platform's MCP integrations)");
  } else {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "tools of type '" + type + "' are not available in infsh-local");
  }
}

void ChatEngine::settle_locked(ChatState& state, ToolInvocationRecord& invocation,
                               InvocationStatus status, std::string result, json data) {
  invocation.status = status;
  invocation.result = std::move(result);
  invocation.data = std::move(data);
  invocation.callback_token.clear();
  invocation.updated_at = rfc3339_now();
  save_locked(invocation);
  if (MessageRecord* message = state.message(invocation.message_id)) {
    emit_message_locked(state, *message);
  }
}

void ChatEngine::on_tool_done(const ToolDone& done) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  ChatState* state = find_locked(done.chat_id);
  if (state == nullptr) return;
  ToolInvocationRecord* invocation = state->invocation(done.invocation_id);
  if (invocation == nullptr || is_settled(invocation->status)) return;  // stopped meanwhile
  if (done.awaiting_callback) return;  // the hook took it: its callback settles it
  settle_locked(*state, *invocation, done.status, done.result, done.data);
  advance_locked(*state);
}

void ChatEngine::advance_locked(ChatState& state) {
  MessageRecord* message = state.current();
  if (message == nullptr || message->status == MessageStatus::pending) return;
  const bool all_settled = std::all_of(
      message->invocations.begin(), message->invocations.end(),
      [](const ToolInvocationRecord& invocation) { return is_settled(invocation.status); });
  if (!all_settled) {
    update_status_locked(state);
    return;
  }
  if (state.finished || message->invocations.empty()) {
    end_turn_locked(state);
    return;
  }
  // The results go back to the core in a new step.
  MessageRecord next;
  next.id = new_id("msg");
  next.chat_id = state.chat.id;
  next.role = MessageRole::assistant;
  next.status = MessageStatus::pending;
  next.order = next_order_locked(state);
  next.created_at = next.updated_at = rfc3339_now();
  state.chat.turn->assistant_message_id = next.id;
  state.messages.push_back(std::move(next));
  MessageRecord& added = state.messages.back();
  save_locked(added);
  update_status_locked(state);
  save_locked(state.chat);
  emit_message_locked(state, added);
  post([this, id = state.chat.id] { run_step(id); });
}

void ChatEngine::update_status_locked(ChatState& state) {
  ChatStatus status = ChatStatus::idle;
  if (state.chat.turn) {
    status = ChatStatus::busy;
    if (MessageRecord* message = state.current()) {
      for (const auto& invocation : message->invocations) {
        if (is_waiting(invocation.status)) status = ChatStatus::awaiting_input;
      }
    }
  }
  if (status == state.chat.status) return;
  state.chat.status = status;
  touch_locked(state.chat);
  save_locked(state.chat);
  emit_chat_locked(state);
}

void ChatEngine::fail_turn_locked(ChatState& state, const std::string& error) {
  if (MessageRecord* message = state.current(); message != nullptr) {
    if (message->status == MessageStatus::pending) {
      message->status = MessageStatus::failed;
      message->error = error;
      touch_locked(*message);
      save_locked(*message);
      emit_message_locked(state, *message);
    }
  }
  log_.debug("chat " + state.chat.id + ": turn failed: " + error);
  end_turn_locked(state);
}

void ChatEngine::end_turn_locked(ChatState& state) {
  if (!state.chat.turn) return;
  if (!state.watched && state.observers.empty() && state.chat.parent_id.empty() &&
      options_.unseen_turn_replay.count() > 0) {
    state.unseen_turn = state.chat.turn->user_message_id;
    state.unseen_until = std::chrono::steady_clock::now() + options_.unseen_turn_replay;
  }
  state.chat.turn.reset();
  state.core_task.clear();
  state.finished = false;
  state.held = false;
  state.chat.status = ChatStatus::idle;
  touch_locked(state.chat);
  save_locked(state.chat);
  emit_chat_locked(state);
  if (!state.chat.parent_id.empty()) on_child_turn_end_locked(state);
  start_next_queued_locked(state);
  trim_cache_locked();
}

void ChatEngine::stop_turn_locked(ChatState& state, const std::string& why) {
  if (!state.chat.turn) return;
  if (!state.core_task.empty()) tasks_.cancel(state.core_task);
  state.core_task.clear();
  if (MessageRecord* message = state.current()) {
    std::vector<std::string> children;
    for (ToolInvocationRecord& invocation : message->invocations) {
      if (is_settled(invocation.status)) continue;
      // Settled first, so that what the cancel sets off (a child's turn ending) finds nothing
      // left to settle here.
      invocation.status = InvocationStatus::cancelled;
      invocation.result = "cancelled: " + why;
      invocation.callback_token.clear();
      invocation.updated_at = rfc3339_now();
      save_locked(invocation);
      if (invocation.type == "app" && !invocation.execution_id.empty()) {
        tasks_.cancel(invocation.execution_id);
      } else if (invocation.type == "agent" && !invocation.execution_id.empty()) {
        children.push_back(invocation.execution_id);
      }
    }
    for (const std::string& id : children) {
      if (ChatState* child = find_locked(id)) {
        cancel_queued_locked(*child);
        stop_turn_locked(*child, why);
      }
    }
    if (message->status == MessageStatus::pending) {
      message->status = MessageStatus::cancelled;
      message->error = why;
    }
    touch_locked(*message);
    save_locked(*message);
    emit_message_locked(state, *message);
  }
  end_turn_locked(state);
}

void ChatEngine::cancel_queued_locked(ChatState& state) {
  for (MessageRecord& message : state.messages) {
    if (message.status != MessageStatus::queued) continue;
    message.status = MessageStatus::cancelled;
    message.error = "cancelled before its turn";
    touch_locked(message);
    save_locked(message);
    emit_message_locked(state, message);
  }
}

void ChatEngine::start_next_queued_locked(ChatState& state) {
  if (state.chat.turn || shutting_down_) return;
  for (std::size_t i = 0; i < state.messages.size(); ++i) {
    MessageRecord& user = state.messages[i];
    if (user.status != MessageStatus::queued || user.role != MessageRole::user) continue;
    for (std::size_t j = i + 1; j < state.messages.size(); ++j) {
      MessageRecord& assistant = state.messages[j];
      if (assistant.status == MessageStatus::queued && assistant.role == MessageRole::assistant) {
        begin_turn_locked(state, user, assistant);
        return;
      }
    }
  }
}

void ChatEngine::on_child_turn_end_locked(ChatState& child) {
  ChatState* parent = find_locked(child.chat.parent_id);
  if (parent == nullptr) return;
  ToolInvocationRecord* invocation = parent->invocation(child.chat.parent_invocation_id);
  if (invocation == nullptr || is_settled(invocation->status)) return;
  // The child's last step says how its turn ended.
  const MessageRecord* last = nullptr;
  std::string text;
  for (const MessageRecord& message : child.messages) {
    if (message.role != MessageRole::assistant || message.status == MessageStatus::queued) continue;
    last = &message;
    if (!message.text.empty()) text = message.text;
  }
  if (last == nullptr || last->status == MessageStatus::cancelled) {
    settle_locked(*parent, *invocation, InvocationStatus::cancelled, "the sub-agent was stopped");
  } else if (last->status == MessageStatus::failed) {
    settle_locked(*parent, *invocation, InvocationStatus::failed,
                  "the sub-agent failed: " + last->error);
  } else if (!child.chat.output.is_null()) {
    settle_locked(*parent, *invocation, InvocationStatus::completed, result_text(child.chat.output),
                  child.chat.output);
  } else {
    settle_locked(*parent, *invocation, InvocationStatus::completed, text);
  }
  advance_locked(*parent);
}

// ---- tools by type ------------------------------------------------------------------------------

void ChatEngine::run_internal_tool_locked(ChatState& state, ToolInvocationRecord& invocation) {
  const json& args = invocation.arguments;
  json& data = state.chat.agent_data;
  if (!data.is_object()) data = json::object();
  const std::string& name = invocation.name;
  const auto changed_chat = [&] {
    touch_locked(state.chat);
    save_locked(state.chat);
    emit_chat_locked(state);
  };
  if (name == "finish") {
    const json& config = state.chat.agent_config;
    if (const auto schema = config.find("output_schema");
        schema != config.end() && schema->is_object()) {
      const auto problems = schema_violations(args, *schema);
      if (!problems.empty()) {
        std::string text = "the output does not fit the output_schema:";
        for (const auto& problem : problems) text += "\n- " + problem;
        settle_locked(state, invocation, InvocationStatus::failed, text);
        return;
      }
    }
    state.chat.output = args;
    state.finished = true;
    changed_chat();
    settle_locked(state, invocation, InvocationStatus::completed, "finished", args);
  } else if (name == "plan_create") {
    const json steps = args.contains("steps") ? args.at("steps") : json();
    if (!steps.is_array()) {
      settle_locked(state, invocation, InvocationStatus::failed, "'steps' must be an array");
      return;
    }
    json plan = json::array();
    for (std::size_t i = 0; i < steps.size(); ++i) {
      plan.push_back({{"index", i},
                      {"title", text_of(steps[i], "title",
                                        steps[i].is_string() ? steps[i].get<std::string>() : "")},
                      {"description", text_of(steps[i], "description")},
                      {"notes", ""},
                      {"status", "pending"}});
    }
    data["plan_steps"] = plan;
    changed_chat();
    settle_locked(state, invocation, InvocationStatus::completed,
                  "the plan has " + std::to_string(plan.size()) + " steps", plan);
  } else if (name == "plan_update") {
    json& plan = data["plan_steps"];
    const json index = args.contains("index") ? args.at("index") : json();
    const std::string status = text_of(args, "status");
    static const std::vector<std::string> kStatuses = {"pending", "in_progress", "completed",
                                                       "cancelled"};
    if (!plan.is_array() || !index.is_number_integer() || index.get<std::int64_t>() < 0 ||
        static_cast<std::size_t>(index.get<std::int64_t>()) >= plan.size()) {
      settle_locked(state, invocation, InvocationStatus::failed,
                    "'index' must name a step of the plan (0 to " +
                        std::to_string(plan.is_array() ? plan.size() : 0) + " - 1)");
      return;
    }
    if (std::find(kStatuses.begin(), kStatuses.end(), status) == kStatuses.end()) {
      settle_locked(state, invocation, InvocationStatus::failed,
                    "'status' must be pending, in_progress, completed or cancelled");
      return;
    }
    json& step = plan[index.get<std::size_t>()];
    step["status"] = status;
    if (args.contains("notes") && args.at("notes").is_string()) step["notes"] = args.at("notes");
    changed_chat();
    settle_locked(state, invocation, InvocationStatus::completed,
                  "step " + std::to_string(index.get<std::int64_t>()) + " is " + status, step);
  } else if (name == "memory_set") {
    const std::string key = text_of(args, "key");
    if (key.empty() || !args.contains("value")) {
      settle_locked(state, invocation, InvocationStatus::failed, "'key' and 'value' are required");
      return;
    }
    json& memory = data["memory"];
    if (!memory.is_object()) memory = json::object();
    memory[key] = args.at("value");
    changed_chat();
    settle_locked(state, invocation, InvocationStatus::completed, "remembered " + key);
  } else if (name == "memory_get") {
    const std::string key = text_of(args, "key");
    const json& memory = data.contains("memory") ? data.at("memory") : json();
    if (!memory.is_object() || !memory.contains(key)) {
      settle_locked(state, invocation, InvocationStatus::completed,
                    "nothing is remembered under " + key);
      return;
    }
    settle_locked(state, invocation, InvocationStatus::completed, result_text(memory.at(key)));
  } else {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "there is no tool called '" + name + "'");
  }
}

void ChatEngine::run_app_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                                     const json& tool) {
  const json& app = object_or_empty(tool, "app");
  json input = object_or_empty(app, "input");  // defaults, under the core's arguments
  json args = invocation.arguments;
  json body = {{"app", text_of(app, "ref")}};
  if (app.value("session_enabled", false)) {
    const std::string session = text_of(args, "session", "new");
    body["session"] = session.empty() ? "new" : session;
  }
  args.erase("session");
  for (const auto& [key, value] : args.items()) input[key] = value;
  body["input"] = std::move(input);
  if (app.contains("setup") && !app.at("setup").is_null()) body["setup"] = app.at("setup");
  if (const std::string function = text_of(app, "function"); !function.empty()) {
    body["function"] = function;
  }
  json task;
  try {
    task = tasks_.create(parse_run_request(common::compact_json(body), apps_));
  } catch (const std::exception& e) {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "the app '" + text_of(app, "ref") + "' cannot run: " + e.what());
    return;
  }
  invocation.execution_id = text_of(task, "id");
  invocation.status = InvocationStatus::in_progress;
  invocation.updated_at = rfc3339_now();
  save_locked(invocation);
  if (MessageRecord* message = state.message(invocation.message_id)) {
    emit_message_locked(state, *message);
  }
  follow_task(
      invocation.execution_id, [this, chat_id = state.chat.id, invocation_id = invocation.id](
                                   const TaskView& view, bool terminal) {
        if (!terminal) return;
        ToolDone done{chat_id, invocation_id};
        if (view.status == kTaskCompleted) {
          json output = view.output;
          if (!view.session_id.empty() && output.is_object())
            output["session_id"] = view.session_id;
          done.result = result_text(output);
          done.data = std::move(output);
        } else {
          done.status =
              view.status == kTaskFailed ? InvocationStatus::failed : InvocationStatus::cancelled;
          done.result =
              "the app's task " + view.id + " " +
              (view.status == kTaskFailed ? "failed: " + view.error : std::string("was cancelled"));
        }
        on_tool_done(done);
      });
}

void ChatEngine::run_agent_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                                       const json& tool) {
  const std::string ref = text_of(object_or_empty(tool, "agent"), "ref");
  if (state.chat.depth + 1 > options_.max_depth) {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "sub-agents may nest " + std::to_string(options_.max_depth) + " deep; '" + ref +
                      "' would be deeper");
    return;
  }
  const std::optional<AgentRecord> agent = agents_.find_template(ref);
  if (!agent) {
    settle_locked(state, invocation, InvocationStatus::failed,
                  "there is no agent '" + ref + "' (register one with --agent or POST /agents)");
    return;
  }
  const json& args = invocation.arguments;
  std::string text = text_of(args, "message");
  if (text.empty()) text = text_of(args, "text");
  if (text.empty()) text = text_of(args, "input");
  if (text.empty()) text = common::compact_json(args);

  auto child_state = std::make_unique<ChatState>();
  ChatRecord& child = child_state->chat;
  child.id = new_id("chat");
  child.name = agent->name;
  child.parent_id = state.chat.id;
  child.parent_invocation_id = invocation.id;
  child.depth = state.chat.depth + 1;
  child.agent_id = agent->id;
  child.agent_version_id = agent->version_id;
  child.agent_config = agent->config;
  child.context = state.chat.context;
  child.created_at = child.updated_at = rfc3339_now();
  child_state->last_used = ++clock_;
  const std::string child_id = child.id;
  save_locked(child);

  invocation.execution_id = child_id;
  invocation.status = InvocationStatus::in_progress;
  invocation.updated_at = rfc3339_now();
  save_locked(invocation);
  if (MessageRecord* message = state.message(invocation.message_id)) {
    emit_message_locked(state, *message);
  }

  ChatState& added = *chats_.emplace(child_id, std::move(child_state)).first->second;
  MessageRecord user;
  user.id = new_id("msg");
  user.chat_id = child_id;
  user.role = MessageRole::user;
  user.text = std::move(text);
  user.order = 1;
  user.created_at = user.updated_at = rfc3339_now();
  MessageRecord assistant;
  assistant.id = new_id("msg");
  assistant.chat_id = child_id;
  assistant.role = MessageRole::assistant;
  assistant.order = 2;
  assistant.created_at = assistant.updated_at = user.created_at;
  added.messages.push_back(std::move(user));
  added.messages.push_back(std::move(assistant));
  begin_turn_locked(added, added.messages[0], added.messages[1]);
}

void ChatEngine::run_request_tool_locked(ChatState& state, ToolInvocationRecord& invocation,
                                         const json& tool) {
  const bool hook = invocation.type == "hook";
  const json& config = object_or_empty(tool, hook ? "hook" : "http");
  ToolRequest request;
  std::string token;
  try {
    if (hook) {
      token = new_secret();
      const std::string callback =
          base_url_.get() + "/tools/" + invocation.id + "/callback/" + token;
      request = hook_tool_request(config, invocation.id, invocation.name, callback, rfc3339_now(),
                                  invocation.arguments, options_.secret);
    } else {
      request =
          http_tool_request(config, invocation.arguments, state.chat.context, options_.secret);
    }
  } catch (const ToolRequestError& e) {
    settle_locked(state, invocation, InvocationStatus::failed, e.what());
    return;
  }
  invocation.status = InvocationStatus::in_progress;
  invocation.callback_token = token;
  invocation.updated_at = rfc3339_now();
  save_locked(invocation);
  if (MessageRecord* message = state.message(invocation.message_id)) {
    emit_message_locked(state, *message);
  }
  requests_.send(std::move(request.request),
                 [this, hook, chat_id = state.chat.id, invocation_id = invocation.id,
                  secrets = std::move(request.secrets)](ToolHttpResult result) {
                   ToolDone done{chat_id, invocation_id};
                   const bool ok = result.status >= 200 && result.status < 300;
                   if (result.status == 0) {
                     done.status = InvocationStatus::failed;
                     done.result = redact("the request failed: " + result.error, secrets);
                   } else if (!ok) {
                     done.status = InvocationStatus::failed;
                     done.result = redact((hook ? "the hook answered HTTP " : "HTTP ") +
                                              std::to_string(result.status) + ": " +
                                              result.body.substr(0, 2000),
                                          secrets);
                   } else if (hook) {
                     done.awaiting_callback = true;  // the result comes to the callback URL
                   } else {
                     done.result = redact(std::move(result.body), secrets);
                   }
                   post([this, done = std::move(done)] { on_tool_done(done); });
                 });
}

}  // namespace infsh::local
