#pragma once

// The built-in apps with files of their own: stand-ins for platform apps that the official
// SDKs' integration suites call, and the cores agents think with. add_demo_apps() registers them
// with those of demo_apps.cpp.

#include <memory>

#include "infsh/local/app.hpp"

namespace infsh::local {
class Secrets;
}  // namespace infsh::local

namespace infsh::local::apps {

/// infsh/text-templating: {template, strings} → {text}, "{1}" replaced by strings[0], ...
std::shared_ptr<App> make_text_templating_app();

/// infsh/session-test: a key-value store kept for the life of a session (set_value, get_value,
/// get_all, increment).
std::shared_ptr<App> make_session_test_app();

/// infsh/scripted-llm: a deterministic core for agents (the chat contract, infsh/llm.hpp); its
/// setup is a script of what each turn streams, which tools it calls and when it finishes.
std::shared_ptr<App> make_scripted_llm_app();

/// infsh/openai-chat: a core for agents asking an OpenAI-compatible /chat/completions endpoint
/// (setup: base_url, model, api_key_secret, ...); its API key is read from `secrets`.
std::shared_ptr<App> make_openai_chat_app(std::shared_ptr<const Secrets> secrets);

}  // namespace infsh::local::apps
