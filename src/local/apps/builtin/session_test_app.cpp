// infsh/session-test: the platform app the official SDKs' sessions suites run. A key-value store
// kept in the instance, which a session leases for its whole life, so its state is the
// session's:
//
//   set_value {key, value}   → {success: true, key, value}
//   get_value {key}          → {found, key, value}        (value null when not found)
//   get_all {}               → {state: {key: value, ...}, call_count}
//   increment {key, amount}  → {key, previous, current}   (an unknown key counts from 0;
//                                                           amount defaults to 1)
//
// `call_count` counts this session's calls, this one included. A call outside a session, or the
// first call of a new session (which may be given a warm instance another call used), starts
// from an empty store.

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "apps/builtin/app_input.hpp"
#include "apps/builtin/builtin_apps.hpp"

namespace infsh::local::apps {

namespace {

using nlohmann::json;

constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

class SessionTestApp final : public App {
  class Instance final : public AppInstance {
   public:
    json run(const std::string& function, const json& input, AppContext& context) override {
      const std::string session = context.session_id();
      if (session.empty() || session != owner_) {
        state_ = json::object();
        calls_ = 0;
        owner_ = session;
      }
      ++calls_;
      if (function == "set_value") {
        const auto& key = string_field(input, "key", false);
        const auto& value = string_field(input, "value");
        state_[key] = value;
        return {{"success", true}, {"key", key}, {"value", value}};
      }
      if (function == "get_value") {
        const auto& key = string_field(input, "key", false);
        const auto it = state_.find(key);
        const bool found = it != state_.end();
        return {{"found", found}, {"key", key}, {"value", found ? *it : json()}};
      }
      if (function == "get_all") return {{"state", state_}, {"call_count", calls_}};
      // increment
      const auto& key = string_field(input, "key", false);
      const std::int64_t amount = integer_field(input, "amount", 1, kMin, kMax);
      std::int64_t previous = 0;
      if (const auto it = state_.find(key); it != state_.end()) {
        if (!it->is_number_integer()) {
          throw std::runtime_error("increment: '" + key + "' holds " + it->dump() +
                                   ", not a number");
        }
        previous = it->get<std::int64_t>();
      }
      std::int64_t current = 0;
      if (__builtin_add_overflow(previous, amount, &current)) {
        throw std::runtime_error("increment: " + std::to_string(previous) + " + " +
                                 std::to_string(amount) + " does not fit in 64 bits");
      }
      state_[key] = current;
      return {{"key", key}, {"previous", previous}, {"current", current}};
    }

   private:
    std::string owner_;  // the session the state belongs to
    json state_ = json::object();
    std::int64_t calls_ = 0;
  };

 public:
  std::vector<std::string> functions() const override {
    return {"set_value", "get_value", "get_all", "increment"};
  }

  void validate(const std::string& function, const json& input, const json&) const override {
    require_object(input);
    if (function == "get_all") return;
    string_field(input, "key", false);
    if (function == "set_value") string_field(input, "value");
    if (function == "increment") integer_field(input, "amount", 1, kMin, kMax);
  }

  std::unique_ptr<AppInstance> setup(const json&, AppContext&) override {
    return std::make_unique<Instance>();
  }
};

}  // namespace

std::shared_ptr<App> make_session_test_app() { return std::make_shared<SessionTestApp>(); }

}  // namespace infsh::local::apps
