#pragma once

// Structured logs: one JSON object per line on stderr, e.g.
//   {"ts":"2026-11-23T10:00:00.123Z","level":"info","service":"kam-accounts","msg":"listening",
//    "address":"127.0.0.1:50051"}
// Operators pipe these into jq or a log shipper; keep `msg` constant and put variables in fields.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kam::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

using Field = std::pair<std::string_view, std::string>;

// Parses "debug", "info", "warn", "error". Returns false on anything else.
bool ParseLevel(std::string_view text, Level* level);

void SetLevel(Level level);
void SetServiceName(std::string name);
bool Enabled(Level level);

void Write(Level level, std::string_view msg, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view msg, std::initializer_list<Field> fields = {}) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, msg, fields);
}
inline void Info(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kInfo, msg, fields);
}
inline void Warn(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kWarn, msg, fields);
}
inline void Error(std::string_view msg, std::initializer_list<Field> fields = {}) {
  Write(Level::kError, msg, fields);
}

// Logs at error level and aborts: for "cannot happen" states, where going on would corrupt data.
[[noreturn]] void Fatal(std::string_view msg, std::initializer_list<Field> fields = {});

}  // namespace kam::log
