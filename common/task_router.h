#pragma once

// Any instance answers any call: a call about a key whose task runs elsewhere is forwarded to the
// instance that owns the task, over one long-lived gRPC channel per peer, with the caller's
// deadline. Ownership comes from this instance's TaskTable (local) and the group's description
// (GroupDirectory, remote). A forwarded call carries the kam-forwarded-by header; its receiver
// serves it or answers UNAVAILABLE ("moved, retry"), never forwards it again, so a stale map can
// cost a retry but never a loop.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "absl/base/thread_annotations.h"
#include "common/grpc_unary.h"
#include "common/metrics.h"
#include "common/rpc_metrics.h"
#include "common/status.h"
#include "common/task_ownership.h"

namespace kam {

namespace kafka {
class GroupDirectory;  // common/kafka/group_directory.h (librdkafka stays out of adapters)
}  // namespace kafka

inline constexpr char kForwardedByHeader[] = "kam-forwarded-by";

class TaskRouter {
 public:
  // `directory` may be null (one instance, nothing to forward to).
  TaskRouter(const TaskOwnership* ownership, kafka::GroupDirectory* directory,
             MetricsRegistry* metrics);
  // The address this instance advertises (known once its port is bound).
  void SetSelfAddress(std::string address);

  // Where a call about `task` is answered: nullopt for here, else the owner's address.
  // UNAVAILABLE when no instance is known to own it, or when the call was already forwarded once
  // and the task does not run here.
  absl::StatusOr<std::optional<std::string>> Route(int32_t task,
                                                   const grpc::CallbackServerContext* context);
  // Credentials of the channels to the other instances (plaintext until set); before any call.
  void SetChannelCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials);
  // The channel to `address`, made once and kept.
  std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address);
  // The outgoing context of a call forwarded from `incoming`: its deadline, and the header.
  std::unique_ptr<grpc::ClientContext> ForwardContext(
      const grpc::CallbackServerContext* incoming) const;
  // The peers to ask when the task is not known from the request (every other member).
  std::vector<std::string> Peers() const;
  std::string self_address() const;
  // A forwarded call came back with `status`: counted by target; a peer that is gone or no
  // longer owns the task makes the directory look again. Returns the status the caller gets.
  grpc::Status Forwarded(const std::string& address, const grpc::Status& status);
  static bool WasForwarded(const grpc::CallbackServerContext* context);

  const TaskOwnership* ownership() const { return ownership_; }

 private:
  const TaskOwnership* ownership_;
  kafka::GroupDirectory* directory_;
  MetricsRegistry* metrics_;
  mutable Mutex mutex_;
  std::string self_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_ ABSL_GUARDED_BY(mutex_);
  std::shared_ptr<grpc::ChannelCredentials> credentials_ ABSL_GUARDED_BY(mutex_) =
      grpc::InsecureChannelCredentials();
  std::map<std::string, Counter*> forwarded_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, Counter*> forward_failed_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace kam

namespace kam {

// Forwards one unary call to `address`. `start` issues it on a stub of the peer's service (the
// callback API: it returns at once); `done` gets the peer's status (UNAVAILABLE rewritten to say
// "retry") and the finished call's context (for the peer's response metadata), on a gRPC thread.
template <typename Response>
void ForwardUnary(TaskRouter* router, const grpc::CallbackServerContext* incoming,
                  const std::string& address, Response* response,
                  const std::function<void(grpc::ClientContext*, Response*,
                                           std::function<void(grpc::Status)>)>& start,
                  std::function<void(grpc::Status, const grpc::ClientContext&)> done) {
  grpc::ClientContext* outgoing = router->ForwardContext(incoming).release();
  start(outgoing, response,
        [router, address, outgoing, done = std::move(done)](grpc::Status status) {
          done(router->Forwarded(address, status), *outgoing);
          delete outgoing;
        });
}

// Finishes `reactor` with `status` and records the call.
void FinishCall(grpc::ServerUnaryReactor* reactor, RpcMetrics* metrics, const char* method,
                std::chrono::steady_clock::time_point began, const grpc::Status& status);

// Answers the call with `status` at once.
grpc::ServerUnaryReactor* RefuseCall(grpc::CallbackServerContext* context, RpcMetrics* metrics,
                                     const char* method, const absl::Status& status);

// Forwards a unary call of `Service` to `address` and finishes the call with the owner's answer;
// `rpc(async_stub, client_context, request, response, on_done)` issues it. Response metadata
// named in `pass_back` is handed on to the caller.
template <typename Service, typename Request, typename Response, typename Rpc>
grpc::ServerUnaryReactor* ForwardCall(TaskRouter* router, grpc::CallbackServerContext* context,
                                      RpcMetrics* metrics, const char* method,
                                      const std::string& address, const Request* request,
                                      Response* response, Rpc rpc,
                                      std::vector<std::string> pass_back = {}) {
  auto began = std::chrono::steady_clock::now();
  CallTraceScope traced(context);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::shared_ptr<typename Service::Stub> stub = Service::NewStub(router->ChannelTo(address));
  ForwardUnary<Response>(
      router, context, address, response,
      [stub, request, rpc](grpc::ClientContext* outgoing, Response* answer,
                           std::function<void(grpc::Status)> on_done) {
        rpc(stub->async(), outgoing, request, answer, std::move(on_done));
      },
      // The method name is copied: it outlives the handler that named it (see AnswerUnaryLater).
      [reactor, context, metrics, method = std::string(method), began, stub,
       pass_back = std::move(pass_back)](grpc::Status status, const grpc::ClientContext& finished) {
        for (const std::string& name : pass_back) {
          auto found = finished.GetServerInitialMetadata().find(name);
          if (found != finished.GetServerInitialMetadata().end()) {
            context->AddInitialMetadata(name,
                                        std::string(found->second.data(), found->second.size()));
          }
        }
        FinishCall(reactor, metrics, method.c_str(), began, status);
      });
  return reactor;
}

}  // namespace kam
