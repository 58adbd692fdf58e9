#include "common/task_router.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/grpc_unary.h"
#include "common/kafka/group_directory.h"

namespace kam {

TaskRouter::TaskRouter(const TaskOwnership* ownership, kafka::GroupDirectory* directory,
                       MetricsRegistry* metrics)
    : ownership_(ownership), directory_(directory), metrics_(metrics) {}

void TaskRouter::SetSelfAddress(std::string address) {
  MutexLock lock(&mutex_);
  self_ = std::move(address);
}

std::string TaskRouter::self_address() const {
  MutexLock lock(&mutex_);
  return self_;
}

bool TaskRouter::WasForwarded(const grpc::CallbackServerContext* context) {
  return context->client_metadata().count(kForwardedByHeader) > 0;
}

absl::StatusOr<std::optional<std::string>> TaskRouter::Route(
    int32_t task, const grpc::CallbackServerContext* context) {
  if (ownership_->RunningSince(task)) return std::optional<std::string>();
  if (WasForwarded(context)) {
    if (directory_ != nullptr) directory_->RequestRefresh();
    return absl::UnavailableError(
        absl::StrCat("task ", task,
                     " does not run on this instance any more (it moved or is restoring); "
                     "retry"));
  }
  std::optional<std::string> owner = directory_ ? directory_->OwnerOf(task) : std::nullopt;
  if (!owner || *owner == self_address()) {
    // Not known, or the map still names us while the task is restoring here.
    if (directory_ != nullptr) directory_->RequestRefresh();
    return absl::UnavailableError(
        absl::StrCat("task ", task,
                     " has no running owner right now (the group is rebalancing or the task "
                     "is restoring); retry"));
  }
  return owner;
}

void TaskRouter::SetChannelCredentials(std::shared_ptr<grpc::ChannelCredentials> credentials) {
  MutexLock lock(&mutex_);
  credentials_ = std::move(credentials);
  channels_.clear();
}

std::shared_ptr<grpc::Channel> TaskRouter::ChannelTo(const std::string& address) {
  MutexLock lock(&mutex_);
  std::shared_ptr<grpc::Channel>& channel = channels_[address];
  if (!channel) {
    grpc::ChannelArguments arguments;
    // Keep the connection warm between bursts; fail fast when the peer is gone.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    channel = grpc::CreateCustomChannel(address, credentials_, arguments);
  }
  return channel;
}

std::unique_ptr<grpc::ClientContext> TaskRouter::ForwardContext(
    const grpc::CallbackServerContext* incoming) const {
  auto outgoing = std::make_unique<grpc::ClientContext>();
  if (incoming->deadline() != std::chrono::system_clock::time_point::max()) {
    outgoing->set_deadline(incoming->deadline());
  }
  outgoing->AddMetadata(kForwardedByHeader, self_address());
  // The owner decides the caller's roles again, from the caller's own token (common/grpc_auth.h).
  auto authorization = incoming->client_metadata().find("authorization");
  if (authorization != incoming->client_metadata().end()) {
    outgoing->AddMetadata("authorization",
                          std::string(authorization->second.data(), authorization->second.size()));
  }
  // The owner continues the caller's trace: one trace id across the hop.
  const trace::TraceContext* current = trace::Current();
  outgoing->AddMetadata(trace::kTraceparent,
                        trace::Format(current ? *current : TraceOfCall(*incoming)));
  return outgoing;
}

std::vector<std::string> TaskRouter::Peers() const {
  std::vector<std::string> peers;
  if (directory_ == nullptr) return peers;
  const std::string self = self_address();
  for (const std::string& member : directory_->Members()) {
    if (member != self) peers.push_back(member);
  }
  return peers;
}

grpc::Status TaskRouter::Forwarded(const std::string& address, const grpc::Status& status) {
  // CANCELLED from a forwarded call means the owner went away mid-call (it was draining for a
  // restart): for the caller that is the same as an owner that did not answer.
  const bool lost = status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                    status.error_code() == grpc::StatusCode::CANCELLED;
  {
    MutexLock lock(&mutex_);
    std::map<std::string, Counter*>& counters = lost ? forward_failed_ : forwarded_;
    Counter*& counter = counters[address];
    if (counter == nullptr) {
      counter = lost ? metrics_->AddCounter("kam_forwarded_calls_unavailable_total",
                                            "Forwarded calls the owner did not answer (gone, "
                                            "or no longer the owner), by target.",
                                            {{"target", address}})
                     : metrics_->AddCounter("kam_forwarded_calls_total",
                                            "Calls forwarded to the instance that owns their "
                                            "task, by target.",
                                            {{"target", address}});
    }
    counter->Increment();
  }
  if (!lost) return status;
  if (directory_ != nullptr) directory_->RequestRefresh();
  return ToGrpcStatus(errors::WithReason(
      absl::UnavailableError(absl::StrCat("the owner of this account's partition (", address,
                                          ") did not answer: ", status.error_message(),
                                          "; ownership may be moving: retry (with the same "
                                          "request_id for writes)")),
      "PARTITION_OWNER_UNREACHABLE", {{"owner", address}}));
}

void FinishCall(grpc::ServerUnaryReactor* reactor, RpcMetrics* metrics, const char* method,
                std::chrono::steady_clock::time_point began, const grpc::Status& status) {
  if (metrics != nullptr) {
    metrics->Record(method, static_cast<absl::StatusCode>(status.error_code()),
                    std::chrono::steady_clock::now() - began);
  }
  reactor->Finish(status);
}

grpc::ServerUnaryReactor* RefuseCall(grpc::CallbackServerContext* context, RpcMetrics* metrics,
                                     const char* method, const absl::Status& status) {
  CallTraceScope traced(context);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  FinishCall(reactor, metrics, method, std::chrono::steady_clock::now(), ToGrpcStatus(status));
  return reactor;
}

}  // namespace kam
