#pragma once

// One unary call with a deadline, the way tests and benchmarks drive the services:
//   Call(stub.get(), &Service::Stub::Method, request, &response)

#include <grpcpp/grpcpp.h>

#include <chrono>

namespace kam::testing {

template <typename Stub, typename Request, typename Response>
grpc::Status Call(Stub* stub,
                  grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                  const Request& request, Response* response,
                  std::chrono::seconds deadline = std::chrono::seconds(20)) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  return (stub->*method)(&context, request, response);
}

}  // namespace kam::testing
