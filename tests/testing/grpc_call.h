#pragma once

// One unary call with a deadline, the way tests and benchmarks drive the services:
//   Call(stub.get(), &Service::Stub::Method, request, &response)

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

namespace kam::testing {

// A stub of `Service` on a plaintext channel to `address` (host:port).
template <typename Service>
std::unique_ptr<typename Service::Stub> StubFor(const std::string& address) {
  return Service::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

template <typename Stub, typename Request, typename Response>
grpc::Status Call(Stub* stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response,
                  std::chrono::seconds deadline = std::chrono::seconds(20)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  return (stub->*method)(&context, request, response);
}

// Whether a call that carries a request id may be sent again after `status`: the instance was
// unreachable or moving a task (UNAVAILABLE), the answer did not come in time, or a draining
// instance cut the call off after its grace period (CANCELLED) -- in each case the write may or
// may not have landed, and the request id makes the retry safe.
inline bool RetrySafeWithRequestId(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::UNAVAILABLE ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
         status.error_code() == grpc::StatusCode::CANCELLED;
}

}  // namespace kam::testing
