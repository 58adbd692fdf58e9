#include "common/mutex.h"
#include "common/logging.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/trace_context.h"
#include "nlohmann/json.hpp"

namespace kam::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
Mutex g_mutex;
std::string& ServiceName() ABSL_EXCLUSIVE_LOCKS_REQUIRED(g_mutex) {
  static std::string* name = new std::string("kam");
  return *name;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

}  // namespace

bool ParseLevel(std::string_view text, Level* level) {
  if (text == "debug")
    *level = Level::kDebug;
  else if (text == "info")
    *level = Level::kInfo;
  else if (text == "warn" || text == "warning")
    *level = Level::kWarn;
  else if (text == "error")
    *level = Level::kError;
  else
    return false;
  return true;
}

void SetLevel(Level level) { g_level.store(static_cast<int>(level)); }

void SetServiceName(std::string name) {
  MutexLock lock(&g_mutex);
  ServiceName() = std::move(name);
}

bool Enabled(Level level) { return static_cast<int>(level) >= g_level.load(); }

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields) {
  if (!Enabled(level)) return;
  nlohmann::ordered_json line;
  line["ts"] = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  line["level"] = LevelName(level);
  MutexLock lock(&g_mutex);
  line["service"] = ServiceName();
  line["msg"] = msg;
  for (const auto& [key, value] : fields) line[std::string(key)] = value;
  // One grep for the trace id finds every line written on behalf of a call or a record.
  if (const trace::TraceContext* traced = trace::Current()) {
    line["trace_id"] = traced->trace_id;
    line["span_id"] = traced->span_id;
  }
  // Invalid UTF-8 in a field must not throw inside the logger.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::fprintf(stderr, "%s\n", text.c_str());
  std::fflush(stderr);
}

void Fatal(std::string_view msg, std::initializer_list<Field> fields) {
  Write(Level::kError, msg, fields);
  std::abort();
}

}  // namespace kam::log
