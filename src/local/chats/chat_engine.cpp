// ChatEngine: chats in memory and in the store, their events, and the API the endpoints call.
// The agent loop (turns, steps, tools) is in agent_loop.cpp.

#include "chats/chat_engine.hpp"

#include <algorithm>

#include "chats/chat_state.hpp"
#include "chats/tool_requests.hpp"
#include "common/json_parse.hpp"
#include "http/api_envelope.hpp"
#include "support/id_generator.hpp"
#include "support/time_format.hpp"

namespace infsh::local {

namespace common = inferencesh::common;

using nlohmann::json;

namespace {

[[noreturn]] void chat_not_found(const std::string& id) {
  throw ApiProblem(404, "chat '" + id.substr(0, 100) + "' not found");
}

[[noreturn]] void invocation_not_found(const std::string& id) {
  throw ApiProblem(404, "tool invocation '" + id.substr(0, 100) + "' not found");
}

}  // namespace

ChatEngine::ChatEngine(ChatStore& store, AgentCatalog& agents, TaskEngine& tasks,
                       const AppRegistry& apps, ToolRequests& requests, const BaseUrl& base_url,
                       const Logger& log, ChatEngineOptions options)
    : store_(store),
      agents_(agents),
      tasks_(tasks),
      apps_(apps),
      requests_(requests),
      base_url_(base_url),
      log_(log),
      options_(std::move(options)),
      loop_(log),
      timer_thread_([this] { run_timers(); }) {}

ChatEngine::~ChatEngine() { stop(); }

void ChatEngine::run_timers() {
  std::unique_lock lock(timer_mutex_);
  for (;;) {
    if (timer_stopping_) return;
    if (timers_.empty()) {
      timer_wake_.wait(lock);
      continue;
    }
    const auto [deadline, chat_id] = timers_.front();
    if (timer_wake_.wait_until(lock, deadline) == std::cv_status::no_timeout &&
        std::chrono::steady_clock::now() < deadline) {
      continue;  // woken early: stopping, or a new entry (always later than this one)
    }
    timers_.pop_front();
    lock.unlock();
    post([this, chat_id = chat_id] { release_held(chat_id); });
    lock.lock();
  }
}

void ChatEngine::start_turn_step_locked(ChatState& state) {
  if (state.observers.empty() && state.chat.depth == 0 && options_.stream_grace.count() > 0) {
    state.held = true;
    {
      std::lock_guard lock(timer_mutex_);
      timers_.emplace_back(std::chrono::steady_clock::now() + options_.stream_grace, state.chat.id);
    }
    timer_wake_.notify_one();
    return;
  }
  state.held = false;
  post([this, id = state.chat.id] { run_step(id); });
}

void ChatEngine::release_held(const std::string& chat_id) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  const auto it = chats_.find(chat_id);
  if (it == chats_.end() || !it->second->held) return;
  it->second->held = false;
  if (it->second->chat.turn) start_step_locked(*it->second);
}

void ChatEngine::send_turn_locked(ChatState& state, const std::shared_ptr<Observer>& observer,
                                  const std::string& first_message_id) {
  bool in_turn = false;
  for (const MessageRecord& message : state.messages) {
    in_turn = in_turn || message.id == first_message_id;
    if (in_turn && message.status != MessageStatus::queued) {
      deliver_locked(
          observer, "chat_messages",
          std::make_shared<const std::string>(common::compact_json(to_message_dto(message))));
    }
  }
  deliver_locked(
      observer, "chats",
      std::make_shared<const std::string>(common::compact_json(chat_dto_locked(state, false))));
}

void ChatEngine::start_held_locked(ChatState& state) {
  state.watched = state.watched || state.chat.turn.has_value();
  state.unseen_turn.clear();  // a reader has seen how the last turn ended
  if (!state.held || shutting_down_) return;
  state.held = false;
  post([this, id = state.chat.id] { run_step(id); });
}

void ChatEngine::start() {
  std::lock_guard lock(mutex_);
  const auto recovered = store_.recover_interrupted_turns(rfc3339_now());
  if (!recovered.empty()) {
    log_.info("ended " + std::to_string(recovered.size()) +
              " chat turn(s) the previous runtime left under way");
  }
  for (const std::string& id : store_.chats_with_queued_messages()) {
    if (ChatState* state = find_locked(id); state != nullptr && !state->chat.turn) {
      start_next_queued_locked(*state);
    }
  }
}

void ChatEngine::begin_shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  for (auto& [id, state] : chats_) {
    for (auto& [subscription, observer] : state->observers) deliver_locked(observer, {}, nullptr);
    state->observers.clear();
  }
}

void ChatEngine::stop() {
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
  }
  {
    std::lock_guard lock(timer_mutex_);
    timer_stopping_ = true;
  }
  timer_wake_.notify_one();
  if (timer_thread_.joinable()) timer_thread_.join();
  loop_.stop();
  loop_stopped_ = true;
}

// ---- state --------------------------------------------------------------------------------------

ChatEngine::ChatState* ChatEngine::find_locked(const std::string& id_or_short_id) const {
  auto it = chats_.find(id_or_short_id);
  if (it == chats_.end()) {
    it = std::find_if(chats_.begin(), chats_.end(), [&](const auto& entry) {
      return short_id_of(entry.first) == id_or_short_id;
    });
  }
  if (it != chats_.end()) {
    it->second->last_used = ++clock_;
    return it->second.get();
  }
  std::optional<ChatRecord> record = store_.find_chat(id_or_short_id);
  if (!record) return nullptr;
  auto state = std::make_unique<ChatState>();
  state->chat = std::move(*record);
  state->messages = store_.load_messages(state->chat.id);
  state->last_used = ++clock_;
  ChatState* loaded = state.get();
  chats_.emplace(loaded->chat.id, std::move(state));
  return loaded;
}

ChatEngine::ChatState& ChatEngine::get_locked(const std::string& id_or_short_id) const {
  ChatState* state = find_locked(id_or_short_id);
  if (state == nullptr) chat_not_found(id_or_short_id);
  return *state;
}

ChatEngine::ChatState& ChatEngine::load_invocation_locked(const std::string& invocation_id,
                                                          ToolInvocationRecord*& invocation) const {
  for (auto& [id, state] : chats_) {
    if ((invocation = state->invocation(invocation_id)) != nullptr) return *state;
  }
  const auto located = store_.locate_invocation(invocation_id);
  if (!located) invocation_not_found(invocation_id);
  ChatState& state = get_locked(located->first);
  invocation = state.invocation(located->second);
  if (invocation == nullptr) invocation_not_found(invocation_id);
  return state;
}

MessageRecord* ChatEngine::message_locked(ChatState& state, const std::string& id) const {
  return state.message(id);
}

void ChatEngine::trim_cache_locked() {
  if (chats_.size() <= options_.max_cached_chats) return;
  std::vector<std::pair<std::uint64_t, std::string>> idle;
  for (const auto& [id, state] : chats_) {
    if (!state->chat.turn && state->observers.empty() && state->core_task.empty()) {
      idle.emplace_back(state->last_used, id);
    }
  }
  std::sort(idle.begin(), idle.end());
  const std::size_t excess = chats_.size() - options_.max_cached_chats;
  for (std::size_t i = 0; i < idle.size() && i < excess; ++i) chats_.erase(idle[i].second);
}

json ChatEngine::chat_dto_locked(const ChatState& state, bool with_messages) const {
  std::vector<const MessageRecord*> messages;
  if (with_messages) {
    messages.reserve(state.messages.size());
    for (const auto& message : state.messages) messages.push_back(&message);
  }
  std::optional<AgentRecord> agent;
  if (!state.chat.agent_id.empty()) agent = agents_.find(state.chat.agent_id);
  return to_chat_dto(state.chat, messages, agent ? &*agent : nullptr);
}

std::int64_t ChatEngine::next_order_locked(const ChatState& state) const {
  std::int64_t order = 0;
  for (const auto& message : state.messages) order = std::max(order, message.order);
  return order + 1;
}

void ChatEngine::touch_locked(ChatRecord& chat) { chat.updated_at = rfc3339_now(); }
void ChatEngine::touch_locked(MessageRecord& message) { message.updated_at = rfc3339_now(); }

// ---- events -------------------------------------------------------------------------------------

void ChatEngine::deliver_locked(const std::shared_ptr<Observer>& observer, std::string_view event,
                                std::shared_ptr<const std::string> data) {
  bool schedule = false;
  {
    std::lock_guard lock(outbox_mutex_);
    outbox_.push_back({observer, std::string(event), std::move(data)});
    schedule = !outbox_scheduled_;
    outbox_scheduled_ = true;
  }
  if (schedule) post([this] { flush_outbox(); });
}

void ChatEngine::flush_outbox() {
  std::vector<Outgoing> batch;
  {
    std::lock_guard lock(outbox_mutex_);
    batch.swap(outbox_);
    outbox_scheduled_ = false;
  }
  static const std::string kNothing;
  for (const Outgoing& item : batch) {
    try {
      (*item.observer)(item.event, item.data ? *item.data : kNothing);
    } catch (const std::exception& e) {
      log_.error(std::string("chat observer failed: ") + e.what());
    }
  }
}

void ChatEngine::emit_locked(ChatState& state, std::string_view event, const std::string& data) {
  if (state.observers.empty()) return;
  const auto shared = std::make_shared<const std::string>(data);
  for (const auto& [subscription, observer] : state.observers) {
    deliver_locked(observer, event, shared);
  }
}

void ChatEngine::emit_chat_locked(ChatState& state) {
  if (state.observers.empty()) return;
  emit_locked(state, "chats", common::compact_json(chat_dto_locked(state, false)));
}

void ChatEngine::emit_message_locked(ChatState& state, const MessageRecord& message) {
  if (state.observers.empty()) return;
  emit_locked(state, "chat_messages", common::compact_json(to_message_dto(message)));
}

std::optional<std::uint64_t> ChatEngine::subscribe(const std::string& chat_id, Observer observer) {
  std::lock_guard lock(mutex_);
  ChatState* state = find_locked(chat_id);
  if (state == nullptr) return std::nullopt;
  if (shutting_down_) {
    observer({}, {});
    return 0;
  }
  auto shared = std::make_shared<Observer>(std::move(observer));
  if (state->chat.turn) {
    // Joining a turn under way: what it holds so far, then where it stands.
    send_turn_locked(*state, shared, state->chat.turn->user_message_id);
  } else if (!state->unseen_turn.empty() &&
             std::chrono::steady_clock::now() < state->unseen_until) {
    // The turn this client sent ended before its stream arrived: it is shown as it would have
    // been during the turn, ending with the idle chat.
    send_turn_locked(*state, shared, state->unseen_turn);
  }
  state->unseen_turn.clear();
  const std::uint64_t subscription = next_subscription_++;
  state->observers.emplace_back(subscription, std::move(shared));
  start_held_locked(*state);
  return subscription;
}

void ChatEngine::unsubscribe(const std::string& chat_id, std::uint64_t subscription) {
  std::lock_guard lock(mutex_);
  const auto it = chats_.find(chat_id);
  if (it == chats_.end()) return;
  auto& observers = it->second->observers;
  observers.erase(std::remove_if(observers.begin(), observers.end(),
                                 [&](const auto& entry) { return entry.first == subscription; }),
                  observers.end());
  trim_cache_locked();
}

// ---- saving -------------------------------------------------------------------------------------

void ChatEngine::save_locked(const ChatRecord& chat) { store_.save_chat(chat); }
void ChatEngine::save_locked(const MessageRecord& message) { store_.save_message(message); }
void ChatEngine::save_locked(const ToolInvocationRecord& invocation) {
  store_.save_invocation(invocation);
}

// ---- chats --------------------------------------------------------------------------------------

json ChatEngine::create_chat(const AgentChoice& agent, json context, std::string name) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) throw ApiProblem(503, "the runtime is shutting down and starts no chats");
  auto state = std::make_unique<ChatState>();
  ChatRecord& chat = state->chat;
  chat.id = new_id("chat");
  chat.name = std::move(name);
  chat.agent_id = agent.agent_id;
  chat.agent_version_id = agent.agent_version_id;
  chat.agent_config = agent.config;
  chat.context = context.is_object() ? std::move(context) : json::object();
  chat.created_at = chat.updated_at = rfc3339_now();
  save_locked(chat);
  state->last_used = ++clock_;
  json dto = chat_dto_locked(*state, true);
  chats_.emplace(chat.id, std::move(state));
  trim_cache_locked();
  return dto;
}

ChatEngine::Sent ChatEngine::send(const std::string& chat_id, TurnInput input,
                                  const std::optional<AgentChoice>& agent, const json& context) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) throw ApiProblem(503, "the runtime is shutting down and starts no turns");
  ChatState& state = get_locked(chat_id);
  ChatRecord& chat = state.chat;
  if (agent) {
    chat.agent_id = agent->agent_id;
    chat.agent_version_id = agent->agent_version_id;
    chat.agent_config = agent->config;
  }
  if (context.is_object()) {
    for (const auto& [key, value] : context.items()) chat.context[key] = value;
  }
  if (chat.name.empty()) {
    // The first words of the first message, never cut inside a UTF-8 sequence.
    std::size_t end = std::min<std::size_t>(input.text.size(), 80);
    while (end > 0 && end < input.text.size() &&
           (static_cast<unsigned char>(input.text[end]) & 0xC0U) == 0x80U) {
      --end;
    }
    chat.name = input.text.substr(0, end);
  }
  const std::string now = rfc3339_now();
  MessageRecord user;
  user.id = new_id("msg");
  user.chat_id = chat.id;
  user.role = MessageRole::user;
  user.text = std::move(input.text);
  user.attachments = std::move(input.attachments);
  user.created_at = user.updated_at = now;
  MessageRecord assistant;
  assistant.id = new_id("msg");
  assistant.chat_id = chat.id;
  assistant.role = MessageRole::assistant;
  assistant.created_at = assistant.updated_at = now;
  const std::string user_id = user.id;
  const std::string assistant_id = assistant.id;
  const bool queued = chat.turn.has_value();
  user.status = assistant.status = queued ? MessageStatus::queued : MessageStatus::pending;
  user.order = next_order_locked(state);
  assistant.order = user.order + 1;
  state.messages.push_back(std::move(user));
  state.messages.push_back(std::move(assistant));
  if (queued) {
    touch_locked(chat);
    save_locked(chat);
    for (const std::string& id : {user_id, assistant_id}) {
      save_locked(*state.message(id));
      emit_message_locked(state, *state.message(id));
    }
  } else {
    begin_turn_locked(state, *state.message(user_id), *state.message(assistant_id));
  }
  return {to_message_dto(*state.message(user_id)), to_message_dto(*state.message(assistant_id))};
}

json ChatEngine::chat(const std::string& id) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  start_held_locked(state);
  return chat_dto_locked(state, true);
}

std::string ChatEngine::resolve_id(const std::string& id_or_short_id) const {
  std::lock_guard lock(mutex_);
  return get_locked(id_or_short_id).chat.id;
}

json ChatEngine::chat_status(const std::string& id) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  start_held_locked(state);
  return to_chat_status_dto(state.chat);
}

json ChatEngine::messages(const std::string& id, std::size_t limit,
                          std::optional<std::int64_t> before) const {
  std::lock_guard lock(mutex_);
  const ChatState& state = get_locked(id);
  std::vector<const MessageRecord*> older;
  for (const auto& message : state.messages) {
    if (!before || message.order < *before) older.push_back(&message);
  }
  const std::size_t first = older.size() > limit ? older.size() - limit : 0;
  json items = json::array();
  for (std::size_t i = first; i < older.size(); ++i) items.push_back(to_message_dto(*older[i]));
  const bool has_next = first > 0;
  return {{"items", std::move(items)},
          {"next_cursor", has_next ? json(std::to_string(older[first]->order)) : json()},
          {"has_next", has_next}};
}

json ChatEngine::list(const ChatStore::ChatQuery& query) const {
  std::lock_guard lock(mutex_);
  ChatStore::ChatPage page = store_.list_chats(query);
  json items = json::array();
  for (ChatRecord& record : page.items) {
    // A chat in memory may be newer than its row (nothing is, today: rows are written at once).
    const auto it = chats_.find(record.id);
    ChatState view;
    view.chat = it != chats_.end() ? it->second->chat : std::move(record);
    items.push_back(chat_dto_locked(view, false));
  }
  return {{"items", std::move(items)},
          {"next_cursor", page.next_cursor ? json(std::to_string(*page.next_cursor)) : json("")},
          {"prev_cursor", ""},
          {"has_next", page.next_cursor.has_value()},
          {"has_previous", query.before.has_value()},
          {"items_per_page", query.limit},
          {"total_items", page.total}};
}

json ChatEngine::update(const std::string& id, const std::optional<std::string>& name,
                        const std::optional<std::string>& description) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  if (name) state.chat.name = *name;
  if (description) state.chat.description = *description;
  touch_locked(state.chat);
  save_locked(state.chat);
  emit_chat_locked(state);
  return chat_dto_locked(state, true);
}

json ChatEngine::set_agent(const std::string& id, const AgentChoice& agent) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  state.chat.agent_id = agent.agent_id;
  state.chat.agent_version_id = agent.agent_version_id;
  state.chat.agent_config = agent.config;
  touch_locked(state.chat);
  save_locked(state.chat);
  emit_chat_locked(state);
  return chat_dto_locked(state, true);
}

void ChatEngine::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  cancel_queued_locked(state);
  stop_turn_locked(state, "the chat was deleted");
  const std::string chat_id = state.chat.id;
  store_.delete_chat(chat_id);
  for (auto& [subscription, observer] : state.observers) deliver_locked(observer, {}, nullptr);
  chats_.erase(chat_id);
}

void ChatEngine::stop_chat(const std::string& id) {
  std::lock_guard lock(mutex_);
  ChatState& state = get_locked(id);
  cancel_queued_locked(state);
  stop_turn_locked(state, "stopped by the client");
}

json ChatEngine::cancel_message(const std::string& message_id) {
  std::lock_guard lock(mutex_);
  ChatState* state = nullptr;
  MessageRecord* message = nullptr;
  for (auto& [id, candidate] : chats_) {
    for (auto& item : candidate->messages) {
      if (item.id == message_id || short_id_of(item.id) == message_id) {
        state = candidate.get();
        message = &item;
      }
    }
  }
  if (message == nullptr) {
    const auto located = store_.locate_message(message_id);
    if (!located) throw ApiProblem(404, "message '" + message_id.substr(0, 100) + "' not found");
    state = &get_locked(located->first);
    message = state->message(located->second);
    if (message == nullptr) {
      throw ApiProblem(404, "message '" + message_id.substr(0, 100) + "' not found");
    }
  }
  if (message->status != MessageStatus::queued) {
    throw ApiProblem(409, "message '" + message->id + "' is " +
                              std::string(to_string(message->status)) +
                              "; only a queued message can be cancelled");
  }
  // A queued user message and the assistant message queued after it go together.
  const auto at = static_cast<std::size_t>(message - state->messages.data());
  std::vector<MessageRecord*> pair{message};
  if (message->role == MessageRole::user && at + 1 < state->messages.size() &&
      state->messages[at + 1].status == MessageStatus::queued &&
      state->messages[at + 1].role == MessageRole::assistant) {
    pair.push_back(&state->messages[at + 1]);
  } else if (message->role == MessageRole::assistant && at > 0 &&
             state->messages[at - 1].status == MessageStatus::queued) {
    pair.insert(pair.begin(), &state->messages[at - 1]);
  }
  for (MessageRecord* item : pair) {
    item->status = MessageStatus::cancelled;
    item->error = "cancelled before its turn";
    touch_locked(*item);
    save_locked(*item);
    emit_message_locked(*state, *item);
  }
  return to_message_dto(*pair.front());
}

// ---- tools --------------------------------------------------------------------------------------

namespace {

[[noreturn]] void not_waiting(const ToolInvocationRecord& invocation, const std::string& wanted) {
  throw ApiProblem(409, "tool invocation '" + invocation.id + "' (" + invocation.type + " tool '" +
                            invocation.name + "') is " + std::string(to_string(invocation.status)) +
                            ", not " + wanted);
}

}  // namespace

void ChatEngine::submit_result(const std::string& invocation_id, std::string result) {
  std::lock_guard lock(mutex_);
  ToolInvocationRecord* invocation = nullptr;
  ChatState& state = load_invocation_locked(invocation_id, invocation);
  if (invocation->status != InvocationStatus::awaiting_input) {
    if (waits_for_callback(*invocation)) {
      throw ApiProblem(409, "tool invocation '" + invocation->id +
                                "' is a hook's: its result comes through its callback URL");
    }
    not_waiting(*invocation, "awaiting_input: a result was already given, or none is expected");
  }
  settle_locked(state, *invocation, InvocationStatus::completed, std::move(result));
  advance_locked(state);
}

void ChatEngine::hook_callback(const std::string& invocation_id, const std::string& token,
                               std::string result) {
  std::lock_guard lock(mutex_);
  ToolInvocationRecord* invocation = nullptr;
  ChatState& state = load_invocation_locked(invocation_id, invocation);
  if (invocation->callback_token.empty() || token != invocation->callback_token) {
    invocation_not_found(invocation_id);  // the URL is a capability: say nothing more
  }
  if (!waits_for_callback(*invocation)) not_waiting(*invocation, "waiting for its hook");
  settle_locked(state, *invocation, InvocationStatus::completed, std::move(result));
  advance_locked(state);
}

void ChatEngine::approve(const std::string& invocation_id) {
  std::lock_guard lock(mutex_);
  ToolInvocationRecord* invocation = nullptr;
  ChatState& state = load_invocation_locked(invocation_id, invocation);
  if (invocation->status != InvocationStatus::awaiting_approval) {
    not_waiting(*invocation, "awaiting_approval");
  }
  invocation->status = InvocationStatus::pending;
  execute_locked(state, *invocation);
  advance_locked(state);
}

void ChatEngine::reject(const std::string& invocation_id, const std::string& reason) {
  std::lock_guard lock(mutex_);
  ToolInvocationRecord* invocation = nullptr;
  ChatState& state = load_invocation_locked(invocation_id, invocation);
  if (invocation->status != InvocationStatus::awaiting_approval) {
    not_waiting(*invocation, "awaiting_approval");
  }
  settle_locked(state, *invocation, InvocationStatus::failed,
                "the user refused this call of " + invocation->name +
                    (reason.empty() ? std::string() : ": " + reason));
  advance_locked(state);
}

void ChatEngine::always_allow(const std::string& chat_id, const std::string& invocation_id,
                              const std::string& tool_name) {
  std::lock_guard lock(mutex_);
  ToolInvocationRecord* invocation = nullptr;
  ChatState& state = load_invocation_locked(invocation_id, invocation);
  if (state.chat.id != chat_id && short_id_of(state.chat.id) != chat_id) {
    invocation_not_found(invocation_id);  // not in this chat
  }
  if (invocation->status != InvocationStatus::awaiting_approval) {
    not_waiting(*invocation, "awaiting_approval");
  }
  const std::string name = tool_name.empty() ? invocation->name : tool_name;
  json& allowed = state.chat.agent_data["always_allowed_tools"];
  if (!allowed.is_array()) allowed = json::array();
  if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) allowed.push_back(name);
  touch_locked(state.chat);
  save_locked(state.chat);
  emit_chat_locked(state);
  invocation->status = InvocationStatus::pending;
  execute_locked(state, *invocation);
  advance_locked(state);
}

std::size_t ChatEngine::busy_count() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(
      chats_.begin(), chats_.end(), [](const auto& e) { return e.second->chat.turn.has_value(); }));
}

std::size_t ChatEngine::cached_count() const {
  std::lock_guard lock(mutex_);
  return chats_.size();
}

}  // namespace infsh::local
