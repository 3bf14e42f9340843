// Run apps written in C++ with the app library (examples/apps/) through infsh-local, which
// hosts each one as a worker process (`infsh-local --app examples/hello=path/to/hello ...`):
// a greeting, an image generator, and a core for agents (examples/echo-llm).
//
//   run_app_programs [output directory]     (default: the current directory)
#include <filesystem>
#include <iostream>
#include <string>

#include <inferencesh/inferencesh.hpp>

namespace inf = inferencesh;
namespace fs = std::filesystem;

namespace {

// An output File as the runtime returns it: a uri, or an object that holds one.
std::string uri_of(const nlohmann::json& file) {
  if (file.is_string()) return file.get<std::string>();
  return file.value("uri", std::string());
}

}  // namespace

int main(int argc, char** argv) try {
  const fs::path out_dir = argc > 1 ? fs::path(argv[1]) : fs::current_path();
  fs::create_directories(out_dir);
  auto client = inf::inference();

  // The "hello world" app: typed input in, typed output back.
  const inf::Task hello = client.tasks.run(
      {{"app", "examples/hello"}, {"input", {{"name", "Ada"}, {"excited", true}}}});
  std::cout << "examples/hello: " << hello.output.at("greeting").get<std::string>() << "\n";

  // The image generator: streamed updates show its progress and a coarse preview (a partial
  // output) before the final image.
  const nlohmann::json params = {{"app", "examples/image-generator"},
                                 {"input",
                                  {{"width", 320},
                                   {"height", 240},
                                   {"iterations", 300},
                                   {"palette", "ocean"},
                                   {"preview", true}}}};
  std::size_t logs_seen = 0;
  bool preview_shown = false;
  inf::Task last;
  for (const inf::Task& update : client.tasks.run(params, inf::stream)) {
    for (; logs_seen < update.logs.size(); ++logs_seen) {
      std::cout << "  log: " << update.logs[logs_seen].content << "\n";
    }
    std::cout << "Status: " << update.status;
    if (!preview_shown && update.status != inf::TaskStatus::completed &&
        update.output.contains("image")) {
      preview_shown = true;  // a partial output: the coarse preview, as a file uri
      std::cout << "  (preview " << update.output.value("width", 0) << "x"
                << update.output.value("height", 0)
                << " ready: " << uri_of(update.output.at("image")) << ")";
    }
    std::cout << "\n";
    last = update;
  }
  const fs::path png = client.files.download(uri_of(last.output.at("image")),
                                             out_dir / "mandelbrot.png", {.overwrite = true});
  std::cout << "image: " << png.string() << " (" << fs::file_size(png) << " bytes, "
            << last.output.at("width") << "x" << last.output.at("height") << ")\n";
  std::cout << "output_meta: " << last.output.at("output_meta").dump() << "\n";

  // A second function of the same app.
  const inf::Task palettes = client.tasks.run({{"app", "examples/image-generator"},
                                               {"function", "palettes"},
                                               {"input", nlohmann::json::object()}});
  std::cout << "palettes: " << palettes.output.at("palettes").dump() << "\n";

  // Input the app's model refuses fails the task with the field and the rule.
  try {
    client.tasks.run({{"app", "examples/image-generator"}, {"input", {{"width", 8}}}});
  } catch (const inf::Error& e) {
    std::cout << "width 8 refused: " << e.what() << "\n";
  }

  // A core for agents (examples/apps/echo_llm): one turn of a chat in, text streamed back as
  // partial outputs, tool calls when asked. An agent sends such turns; here we send them.
  const nlohmann::json weather_tool = {{"type", "function"},
                                       {"function",
                                        {{"name", "get_weather"},
                                         {"description", "The weather in a city"},
                                         {"parameters",
                                          {{"type", "object"},
                                           {"properties", {{"city", {{"type", "string"}}}}},
                                           {"required", {"city"}}}}}}};
  const nlohmann::json first_turn = {{"system_prompt", "You echo."},
                                     {"text", "streaming works word by word"},
                                     {"tools", {weather_tool}}};
  std::string shown;
  for (const inf::Task& update :
       client.tasks.run({{"app", "examples/echo-llm"}, {"input", first_turn}}, inf::stream)) {
    const std::string text = update.output.is_object() ? update.output.value("response", "") : "";
    if (!text.empty() && text != shown)
      std::cout << "examples/echo-llm: " << (shown = text) << "\n";
  }
  const std::string question = R"(call get_weather {"city": "Oslo"})";
  const inf::Task call = client.tasks.run(
      {{"app", "examples/echo-llm"}, {"input", {{"text", question}, {"tools", {weather_tool}}}}});
  const nlohmann::json tool_call = call.output.at("tool_calls").at(0);
  std::cout << "asked to " << question << ", it calls " << tool_call.dump() << "\n";
  // The agent runs the tool and sends the result back as a tool message.
  const nlohmann::json context = {
      {{"role", "user"}, {"text", question}},
      {{"role", "assistant"}, {"text", call.output.at("response")}, {"tool_calls", {tool_call}}}};
  const inf::Task answer = client.tasks.run({{"app", "examples/echo-llm"},
                                             {"input",
                                              {{"context", context},
                                               {"role", "tool"},
                                               {"text", "snow, -3 C"},
                                               {"tool_call_id", tool_call.at("id")},
                                               {"tools", {weather_tool}}}}});
  std::cout << "with the result: " << answer.output.at("response").get<std::string>() << " (usage "
            << answer.output.at("usage").dump() << ")\n";
  return 0;
} catch (const inf::Error& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
