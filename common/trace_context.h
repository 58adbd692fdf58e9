#pragma once

// W3C Trace Context (https://www.w3.org/TR/trace-context/), version 00: the `traceparent` a caller
// sends in gRPC metadata travels with everything the call causes -- the Kafka record's header, the
// record a consumer applies, the CloudEvent of an alert it changed, and every log line written on
// its behalf -- so one interaction can be followed to the alert it caused with a grep for its
// trace id. kam starts a trace where the caller sent none (or a malformed one, as the
// specification asks). Spans are not exported: OpenTelemetry C++ is not packaged in Debian 12;
// the ids are the same a collector would use, so exporting can be added without changing them.
//
// The current context is per thread, as in OpenTelemetry: the gRPC adapter and the record applier
// set it for the work they run, and the places that create outgoing records read it. Work handed
// to another thread carries its traceparent explicitly.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kam::trace {

// The name of the W3C header: gRPC metadata key and Kafka record header alike.
inline constexpr char kTraceparent[] = "traceparent";
// Sent back to a gRPC caller: the traceparent of the span that served its call (W3C Trace
// Context Level 2), so that a caller that sent none still learns the trace id to grep for.
inline constexpr char kTraceresponse[] = "traceresponse";

struct TraceContext {
  std::string trace_id;  // 32 lowercase hex digits, not all zero
  std::string span_id;   // 16 lowercase hex digits, not all zero
  uint8_t flags = 0;     // bit 0: sampled

  bool operator==(const TraceContext&) const = default;
};

// Parses a version-00 traceparent ("00-<trace id>-<span id>-<flags>"). A later version is read by
// its first four fields, as the specification asks. nullopt when malformed.
std::optional<TraceContext> Parse(std::string_view traceparent);
std::string Format(const TraceContext& context);

// A new trace (random ids, sampled).
TraceContext NewRoot();
// The same trace, a new span of this process under `parent`.
TraceContext ChildOf(const TraceContext& parent);
// A child of `traceparent` when it parses, else a new trace.
TraceContext ContinueOrStart(std::string_view traceparent);

// The context of the work this thread runs now (null when none).
const TraceContext* Current();
// Format(*Current()), or "" when none.
std::string CurrentTraceparent();

// Makes `context` current for its life; restores what was current before. Nested use is fine.
class Scope {
 public:
  explicit Scope(std::optional<TraceContext> context);
  // From a traceparent string: a child span of it, or nothing current when it is empty or
  // malformed.
  explicit Scope(std::string_view traceparent);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  std::optional<TraceContext> previous_;
};

}  // namespace kam::trace
