#pragma once

// The shape of every unary handler of a kam service on gRPC's callback API: run the logic call,
// copy its result into the response, finish with its status mapped to a gRPC code, and record
// the request in the service's metrics. The logic runs on gRPC's callback thread; it only touches
// memory and RocksDB (no network), so it does not block the server for long.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <string>

#include "common/grpc_status.h"
#include "common/rpc_metrics.h"
#include "common/trace_context.h"

namespace kam {

// The trace a call continues: a child span of the caller's `traceparent`, or a new trace.
inline trace::TraceContext TraceOfCall(const grpc::ServerContextBase& context) {
  auto found = context.client_metadata().find(trace::kTraceparent);
  if (found == context.client_metadata().end()) return trace::NewRoot();
  return trace::ContinueOrStart(std::string_view(found->second.data(), found->second.size()));
}

// Makes the call's trace current on this thread for the scope's life and tells the caller its
// id (`traceresponse`). Before the first byte of the answer: initial metadata goes out with it.
class CallTraceScope {
 public:
  explicit CallTraceScope(grpc::CallbackServerContext* context) : scope_(TraceOfCall(*context)) {
    context->AddInitialMetadata(trace::kTraceresponse, trace::CurrentTraceparent());
  }

 private:
  trace::Scope scope_;
};

// DEADLINE_EXCEEDED when the caller's deadline has passed before the work starts (queued behind
// other calls, or sent with a deadline already gone): the caller no longer waits for the answer,
// so nothing is done -- a write that nobody hears about would only be a surprise later.
inline absl::Status DeadlineNotPassed(const grpc::CallbackServerContext& context) {
  if (context.deadline() > std::chrono::system_clock::now()) return absl::OkStatus();
  return errors::WithReason(
      absl::DeadlineExceededError("the call's deadline passed before the server started it; "
                                  "nothing was done"),
      "DEADLINE_PASSED_BEFORE_START");
}

template <typename Response, typename Call>
grpc::ServerUnaryReactor* AnswerUnary(grpc::CallbackServerContext* context, RpcMetrics* metrics,
                                      const char* method, Response* response, Call&& call) {
  CallTraceScope traced(context);
  auto start = std::chrono::steady_clock::now();
  absl::Status in_time = DeadlineNotPassed(*context);
  auto result = in_time.ok() ? call() : decltype(call())(in_time);
  absl::Status status = result.status();
  if (status.ok()) *response = std::move(*result);
  if (metrics != nullptr) {
    metrics->Record(method, status.code(), std::chrono::steady_clock::now() - start);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// The same for logic that answers later (a write handed to the group committer): `start` is
// called with a callback taking the logic's StatusOr result; the reactor finishes when it runs,
// from whichever thread. The callback thread is free meanwhile.
template <typename Response, typename Start>
grpc::ServerUnaryReactor* AnswerUnaryLater(grpc::CallbackServerContext* context,
                                           RpcMetrics* metrics, const char* method,
                                           Response* response, Start&& start) {
  // Covers what `start` does on this thread; work it hands on carries the traceparent itself.
  CallTraceScope traced(context);
  auto began = std::chrono::steady_clock::now();
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // The method name is copied: handlers name it with a local constexpr array, gone when the
  // handler returns -- long before a later answer records it.
  auto finish = [reactor, response, metrics, method = std::string(method),
                 began](absl::StatusOr<Response> result) {
    absl::Status status = result.status();
    if (status.ok()) *response = *std::move(result);
    if (metrics != nullptr) {
      metrics->Record(method, status.code(), std::chrono::steady_clock::now() - began);
    }
    reactor->Finish(ToGrpcStatus(status));
  };
  if (absl::Status in_time = DeadlineNotPassed(*context); !in_time.ok()) {
    finish(in_time);
  } else {
    start(std::move(finish));
  }
  return reactor;
}

}  // namespace kam
