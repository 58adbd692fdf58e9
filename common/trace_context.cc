#include "common/trace_context.h"

#include <random>

namespace kam::trace {
namespace {

thread_local std::optional<TraceContext> t_current;

bool IsLowerHex(std::string_view text) {
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(std::string_view text) { return text.find_first_not_of('0') == std::string::npos; }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// Random hex digits, never all zero (an all-zero id is invalid).
std::string RandomHex(size_t digits) {
  // Seeded with 256 bits: one 32-bit seed would give only 2^32 id streams across a fleet.
  thread_local std::mt19937_64 generator = [] {
    std::random_device device;
    std::seed_seq seed{device(), device(), device(), device(),
                       device(), device(), device(), device()};
    return std::mt19937_64(seed);
  }();
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex(digits, '0');
  while (AllZero(hex)) {
    for (size_t i = 0; i < digits; i += 16) {
      uint64_t bits = generator();
      for (size_t j = i; j < digits && j < i + 16; ++j, bits >>= 4) hex[j] = kDigits[bits & 0xf];
    }
  }
  return hex;
}

}  // namespace

std::optional<TraceContext> Parse(std::string_view traceparent) {
  // version(2) - trace id(32) - span id(16) - flags(2): 55 characters; later versions may append
  // "-..." fields, version 00 may not.
  if (traceparent.size() < 55) return std::nullopt;
  const std::string_view version = traceparent.substr(0, 2);
  if (!IsLowerHex(version) || version == "ff") return std::nullopt;
  if (traceparent[2] != '-' || traceparent[35] != '-' || traceparent[52] != '-') {
    return std::nullopt;
  }
  if (traceparent.size() > 55 && (version == "00" || traceparent[55] != '-')) return std::nullopt;
  TraceContext context;
  context.trace_id = std::string(traceparent.substr(3, 32));
  context.span_id = std::string(traceparent.substr(36, 16));
  const std::string_view flags = traceparent.substr(53, 2);
  if (!IsLowerHex(context.trace_id) || !IsLowerHex(context.span_id) || !IsLowerHex(flags) ||
      AllZero(context.trace_id) || AllZero(context.span_id)) {
    return std::nullopt;
  }
  context.flags = static_cast<uint8_t>(HexValue(flags[0]) * 16 + HexValue(flags[1]));
  return context;
}

std::string Format(const TraceContext& context) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text = "00-" + context.trace_id + "-" + context.span_id + "-";
  text.push_back(kDigits[context.flags >> 4]);
  text.push_back(kDigits[context.flags & 0xf]);
  return text;
}

TraceContext NewRoot() { return {RandomHex(32), RandomHex(16), 0x01}; }

TraceContext ChildOf(const TraceContext& parent) {
  // Flags this version does not define are zeroed when propagating; only "sampled" goes on.
  return {parent.trace_id, RandomHex(16), static_cast<uint8_t>(parent.flags & 0x01)};
}

TraceContext ContinueOrStart(std::string_view traceparent) {
  std::optional<TraceContext> parent = Parse(traceparent);
  return parent ? ChildOf(*parent) : NewRoot();
}

const TraceContext* Current() { return t_current ? &*t_current : nullptr; }

std::string CurrentTraceparent() { return t_current ? Format(*t_current) : std::string(); }

Scope::Scope(std::optional<TraceContext> context) : previous_(std::move(t_current)) {
  t_current = std::move(context);
}

Scope::Scope(std::string_view traceparent) : previous_(std::move(t_current)) {
  std::optional<TraceContext> parent = Parse(traceparent);
  t_current = parent ? std::optional<TraceContext>(ChildOf(*parent)) : std::nullopt;
}

Scope::~Scope() { t_current = std::move(previous_); }

}  // namespace kam::trace
