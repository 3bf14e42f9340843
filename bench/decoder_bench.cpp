// Stream decoder throughput.
//
//   framing:   NdjsonFramer / SseFramer alone (finding lines and, for SSE, assembling events)
//   decode:    NdjsonDecoder / SseDecoder (framing + nlohmann::json parse + classification)
//   json:      nlohmann::json::parse of the same payloads, one by one, already split: the
//              floor for a full decode, so decode speed can be read as a ratio to it
//   depth:     three ways to refuse JSON nested deeper than 256 levels, on the same payloads:
//              the client's parse (a SAX builder that counts open containers), nlohmann's
//              parse with a parser callback that checks the depth, and a scan of the brackets
//              outside strings before nlohmann's parse
//
// Input: ~64 MiB of task-stream lines shaped like the real ones (full task objects, partial
// updates with growing output text, typed chat events, heartbeats), fed in chunks of the size
// given as the benchmark argument (16 KiB is curl's largest write callback).

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_parse.hpp"
#include "ndjson_decoder.hpp"
#include "sse_decoder.hpp"

namespace {

using inferencesh::detail::NdjsonDecoder;
using inferencesh::detail::NdjsonFramer;
using inferencesh::detail::SseDecoder;
using inferencesh::detail::SseFramer;
using inferencesh::detail::SseMessage;
using inferencesh::detail::StreamEvent;

constexpr std::size_t kInputBytes = std::size_t{64} << 20;

// One stream line; `n` varies ids, sizes and kinds.
std::string make_line(std::size_t n) {
  const std::string id = "task_01JQ" + std::to_string(100000 + n % 900000);
  // LLM output grows through a task's life: 0 to ~1.5 KB of text, with escapes and UTF-8.
  std::string text;
  for (std::size_t i = 0; i < n % 24; ++i) {
    text +=
        "Token stream \\\"chunk\\\" " + std::to_string(i) + ": caf\xC3\xA9 \xE2\x80\x94 ok.\\n ";
  }
  switch (n % 8) {
    case 0:
      return "{\"id\":\"" + id +
             "\",\"status\":7,\"app_id\":\"infsh/llm\",\"function\":\"run\","
             "\"input\":{\"prompt\":\"Write a haiku about streams\",\"temperature\":0.7,"
             "\"max_tokens\":512},\"output\":{\"text\":\"" +
             text +
             "\"},\"logs\":[{\"content\":\"loading weights\",\"log_type\":1,"
             "\"created_at\":\"2026-03-09T12:00:00.000Z\"}],\"session_id\":\"sess_42\","
             "\"created_at\":\"2026-03-09T12:00:00.000Z\","
             "\"updated_at\":\"2026-03-09T12:00:01.250Z\"}";
    case 7:
      return "{\"type\":\"heartbeat\"}";
    case 5:
      return "{\"event\":\"chat_messages\",\"data\":{\"id\":\"msg_" + std::to_string(n) +
             "\",\"chat_id\":\"chat_7\",\"order\":" + std::to_string(n % 100) +
             ",\"status\":\"streaming\",\"content\":[{\"type\":\"text\",\"text\":\"" + text +
             "\"}]},\"fields\":[\"content\",\"status\"]}";
    default:
      return "{\"data\":{\"id\":\"" + id + "\",\"status\":7,\"output\":{\"text\":\"" + text +
             "\"},\"updated_at\":\"2026-03-09T12:00:01.250Z\"},\"fields\":[\"output\","
             "\"updated_at\"]}";
  }
}

struct Corpus {
  std::vector<std::string> lines;
  std::size_t line_bytes = 0;  // the payloads alone
  std::string ndjson;          // lines, each ended by LF
  std::string sse;             // one event per line, with a comment now and then
};

const Corpus& corpus() {
  static const Corpus built = [] {
    Corpus c;
    for (std::size_t n = 0; c.ndjson.size() < kInputBytes; ++n) {
      std::string line = make_line(n);
      c.line_bytes += line.size();
      c.ndjson += line;
      c.ndjson += '\n';
      if (n % 64 == 63) c.sse += ": keepalive\n\n";
      if (n % 8 == 5) c.sse += "event: chat_messages\n";
      c.sse += "data: ";
      c.sse += line;
      c.sse += "\n\n";
      c.lines.push_back(std::move(line));
    }
    return c;
  }();
  return built;
}

template <typename Feed>
void feed_in_chunks(std::string_view input, std::size_t chunk_size, Feed&& feed) {
  for (std::size_t offset = 0; offset < input.size(); offset += chunk_size) {
    feed(input.substr(offset, chunk_size));
  }
}

void BM_NdjsonFraming(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  std::size_t lines = 0;
  for (auto _ : state) {
    NdjsonFramer framer;
    const std::function<void(std::string_view)> on_line = [&](std::string_view line) {
      benchmark::DoNotOptimize(line.data());
      ++lines;
    };
    feed_in_chunks(c.ndjson, chunk_size,
                   [&](std::string_view chunk) { framer.feed(chunk, on_line); });
    framer.finish(on_line);
  }
  if (lines != c.lines.size() * static_cast<std::size_t>(state.iterations())) {
    state.SkipWithError("framing lost lines");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(lines));
}

void BM_SseFraming(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  std::size_t messages = 0;
  for (auto _ : state) {
    SseFramer framer;
    const std::function<void(SseMessage &&)> on_message = [&](SseMessage&& message) {
      benchmark::DoNotOptimize(message.data.data());
      ++messages;
    };
    const std::function<void(std::string_view)> on_comment = [](std::string_view comment) {
      benchmark::DoNotOptimize(comment.data());
    };
    feed_in_chunks(c.sse, chunk_size,
                   [&](std::string_view chunk) { framer.feed(chunk, on_message, on_comment); });
    framer.finish();
  }
  if (messages != c.lines.size() * static_cast<std::size_t>(state.iterations())) {
    state.SkipWithError("framing lost events");
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.sse.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(messages));
}

void BM_NdjsonDecode(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  std::size_t events = 0;
  for (auto _ : state) {
    NdjsonDecoder decoder;
    const NdjsonDecoder::Sink sink = [&](StreamEvent&& event) {
      benchmark::DoNotOptimize(event);
      ++events;
    };
    feed_in_chunks(c.ndjson, chunk_size,
                   [&](std::string_view chunk) { decoder.feed(chunk, sink); });
    decoder.finish(sink);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

void BM_SseDecode(benchmark::State& state) {
  const Corpus& c = corpus();
  const auto chunk_size = static_cast<std::size_t>(state.range(0));
  std::size_t events = 0;
  for (auto _ : state) {
    SseDecoder decoder;
    const SseDecoder::Sink sink = [&](StreamEvent&& event) {
      benchmark::DoNotOptimize(event);
      ++events;
    };
    feed_in_chunks(c.sse, chunk_size, [&](std::string_view chunk) { decoder.feed(chunk, sink); });
    decoder.finish(sink);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.sse.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}

// The JSON library alone on the same payloads. Bytes are counted as for BM_NdjsonDecode (the
// whole NDJSON text), so the two bytes/s figures compare directly.
void BM_JsonParseOnly(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      nlohmann::json parsed = nlohmann::json::parse(line.data(), line.data() + line.size());
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.lines.size()));
  state.counters["payload_MiB"] = static_cast<double>(c.line_bytes) / (1 << 20);
}

// The client's own parse of server JSON, depth limit included.
void BM_JsonParseBounded(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      auto parsed = inferencesh::common::parse_untrusted_json(line);
      if (!parsed) state.SkipWithError("refused a payload");
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.lines.size()));
}

// The alternative: nlohmann's parser callback sees each value's depth.
void BM_JsonParseDepthCallback(benchmark::State& state) {
  const Corpus& c = corpus();
  const nlohmann::json::parser_callback_t check_depth = [](int depth, nlohmann::json::parse_event_t,
                                                           nlohmann::json&) {
    if (depth > static_cast<int>(inferencesh::common::kMaxJsonDepth)) {
      throw std::runtime_error("too deep");
    }
    return true;
  };
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      nlohmann::json parsed =
          nlohmann::json::parse(line.data(), line.data() + line.size(), check_depth);
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.lines.size()));
}

// The other alternative: count brackets outside strings first, then parse.
bool nests_too_deeply(std::string_view text) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > inferencesh::common::kMaxJsonDepth) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

void BM_JsonParsePrescan(benchmark::State& state) {
  const Corpus& c = corpus();
  for (auto _ : state) {
    for (const auto& line : c.lines) {
      if (nests_too_deeply(line)) state.SkipWithError("refused a payload");
      nlohmann::json parsed = nlohmann::json::parse(line.data(), line.data() + line.size());
      benchmark::DoNotOptimize(parsed);
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(c.ndjson.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(c.lines.size()));
}

constexpr std::int64_t kCurlChunk = 16 << 10;
constexpr std::int64_t kLargeChunk = 1 << 20;

BENCHMARK(BM_NdjsonFraming)->Arg(kCurlChunk)->Arg(kLargeChunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SseFraming)->Arg(kCurlChunk)->Arg(kLargeChunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NdjsonDecode)->Arg(kCurlChunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SseDecode)->Arg(kCurlChunk)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseOnly)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseBounded)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParseDepthCallback)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JsonParsePrescan)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
