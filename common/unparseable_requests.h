#pragma once

// A request whose bytes do not parse as the method's request message gets INVALID_ARGUMENT, is
// counted like any other call and logged as JSON. Left alone, gRPC 1.51's callback API answers it
// UNIMPLEMENTED with an empty message -- as if the method did not exist -- and libprotobuf writes
// a plain-text line to stderr. The handler never runs for such a call (there is no request to
// give it), so the answer is corrected here: a server interceptor notes that the message did not
// deserialize and rewrites the status gRPC then sends.

#include <grpcpp/support/server_interceptor.h>

#include <functional>
#include <string>

namespace kam {

class UnparseableRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  // `on_unparseable` gets the short method name (e.g. "CreateAccount"), on a gRPC thread.
  explicit UnparseableRequestInterceptorFactory(
      std::function<void(const std::string& method)> on_unparseable)
      : on_unparseable_(std::move(on_unparseable)) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  std::function<void(const std::string& method)> on_unparseable_;
};

// Sends libprotobuf's own log lines through kam's JSON log (once per process).
void RouteProtobufLogsToJson();

}  // namespace kam
