// infsh/scripted-llm: a deterministic core for agents in tests and examples. It speaks the chat
// contract (infsh/llm.hpp); its setup is a script saying, turn by turn, what text to stream,
// which tools to call and when to finish (apps/builtin/scripted_llm_script.hpp, documented in
// src/local/README.md).

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "apps/builtin/builtin_apps.hpp"
#include "apps/builtin/chat_contract.hpp"
#include "apps/builtin/scripted_llm_script.hpp"

namespace infsh::local::apps {

namespace {

using nlohmann::json;

class ScriptedLlmApp final : public App {
  class Instance final : public AppInstance {
   public:
    explicit Instance(Script script) : script_(std::move(script)) {}

    json run(const std::string&, const json& input, AppContext& context) override {
      const LLMInput turn = read_llm_input(input);
      const TurnFacts facts = turn_facts(turn);
      const ScriptStep* step = select_step(script_, facts);
      if (step == nullptr) throw std::runtime_error(no_step_message(script_, facts));

      const std::chrono::milliseconds delay(step->delay_ms ? *step->delay_ms : script_.delay_ms);
      LLMOutput partial;
      if (step->reasoning) partial.reasoning = render(*step->reasoning, facts);
      for (const std::string& piece : pieces(*step, script_, facts)) {
        if (delay.count() > 0 && !context.wait_for(delay)) return json::object();  // cancelled
        if (context.cancelled()) return json::object();
        partial.response += piece;
        context.partial_output(to_task_output(partial));  // a snapshot: the text so far
      }
      if (step->error) throw std::runtime_error(render(*step->error, facts));
      return to_task_output(step_output(*step, partial.response, turn, facts));
    }

   private:
    Script script_;
  };

 public:
  std::optional<std::vector<std::string>> input_files(const std::string&) const override {
    return llm_input_files();
  }
  void validate(const std::string&, const json& input, const json& setup) const override {
    parse_script(setup);
    read_llm_input(input);
  }
  std::unique_ptr<AppInstance> setup(const json& setup, AppContext&) override {
    return std::make_unique<Instance>(parse_script(setup));
  }
};

}  // namespace

std::shared_ptr<App> make_scripted_llm_app() { return std::make_shared<ScriptedLlmApp>(); }

}  // namespace infsh::local::apps
