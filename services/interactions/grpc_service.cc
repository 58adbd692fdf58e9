#include "services/interactions/grpc_service.h"

#include <map>

#include "common/grpc_status.h"
#include "common/grpc_unary.h"
#include "common/mutex.h"

namespace kam::interactions {
namespace {

using kam::v1::InteractionsService;

template <typename Request, typename Response, typename Rpc>
grpc::ServerUnaryReactor* Forward(TaskRouter* router, grpc::CallbackServerContext* context,
                                  RpcMetrics* metrics, const char* method,
                                  const std::string& address, const Request* request,
                                  Response* response, Rpc rpc) {
  return ForwardCall<InteractionsService>(router, context, metrics, method, address, request,
                                          response, rpc);
}

}  // namespace

absl::StatusOr<std::optional<std::string>> InteractionsGrpcService::RouteAccount(
    const std::string& account_id, const grpc::CallbackServerContext* context) {
  if (router_ == nullptr || account_id.empty()) return std::optional<std::string>();
  return router_->Route(router_->ownership()->TaskOf(account_id), context);
}

grpc::ServerUnaryReactor* InteractionsGrpcService::RecordInteraction(
    grpc::CallbackServerContext* context, const kam::v1::RecordInteractionRequest* request,
    kam::v1::Interaction* response) {
  constexpr char kMethod[] = "RecordInteraction";
  auto route = RouteAccount(request->interaction().account_id(), context);
  if (!route.ok()) return RefuseCall(context, metrics_, kMethod, route.status());
  if (*route) {
    return Forward(router_, context, metrics_, kMethod, **route, request, response,
                   [](auto* async, auto... args) { async->RecordInteraction(args...); });
  }
  return AnswerUnaryLater(context, metrics_, kMethod, response, [&](auto done) {
    book_->RecordInteractionAsync(*request, std::move(done));
  });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::BatchRecordInteractions(
    grpc::CallbackServerContext* context, const kam::v1::BatchRecordInteractionsRequest* request,
    kam::v1::BatchRecordInteractionsResponse* response) {
  constexpr char kMethod[] = "BatchRecordInteractions";
  // Split by owner: the items served here, and one sub-batch per peer.
  std::vector<int> local;
  std::map<std::string, std::vector<int>> remote;
  std::map<int, absl::Status> refused;
  const bool splits = router_ != nullptr && request->requests_size() > 0 &&
                      request->requests_size() <= max_batch_items_;
  for (int i = 0; i < request->requests_size(); ++i) {
    if (!splits) {
      local.push_back(i);
      continue;
    }
    auto route = RouteAccount(request->requests(i).interaction().account_id(), context);
    if (!route.ok()) {
      refused[i] = route.status();
    } else if (*route) {
      remote[**route].push_back(i);
    } else {
      local.push_back(i);
    }
  }
  if (remote.empty() && refused.empty()) {
    return AnswerUnaryLater(context, metrics_, kMethod, response, [&](auto done) {
      book_->BatchRecordInteractionsAsync(*request, std::move(done));
    });
  }

  // Answers gathered per item in the order of the request.
  struct Join {
    Mutex mutex;
    std::vector<kam::v1::BatchItemResult> results ABSL_GUARDED_BY(mutex);
    int pending ABSL_GUARDED_BY(mutex) = 0;
    grpc::Status failure
        ABSL_GUARDED_BY(mutex);  // the first error that fails the whole call (storage trouble here)
  };
  auto join = std::make_shared<Join>();
  {
    MutexLock lock(&join->mutex);
    join->results.resize(request->requests_size());
    for (int i = 0; i < request->requests_size(); ++i) join->results[i].set_index(i);
    for (const auto& [index, status] : refused) {
      join->results[index].set_code(static_cast<int32_t>(status.code()));
      join->results[index].set_error(std::string(status.message()));
      join->results[index].set_reason(errors::ReasonOf(status));
    }
    join->pending = static_cast<int>(remote.size()) + 1;  // + the local part
  }
  auto began = std::chrono::steady_clock::now();
  CallTraceScope traced(context);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto finish_part = [join, reactor, response, metrics = metrics_, began, kMethod]() {
    join->mutex.AssertHeld();  // once per finished part, under the lock
    if (--join->pending > 0) return;
    if (join->failure.ok()) {
      for (auto& result : join->results) *response->add_results() = std::move(result);
    }
    FinishCall(reactor, metrics, kMethod, began, join->failure);
  };
  for (const auto& [address, indexes] : remote) {
    struct Part {
      kam::v1::BatchRecordInteractionsRequest request;
      kam::v1::BatchRecordInteractionsResponse response;
      std::vector<int> indexes;
    };
    auto part = std::make_shared<Part>();
    part->indexes = indexes;
    for (int index : indexes) *part->request.add_requests() = request->requests(index);
    std::shared_ptr<InteractionsService::Stub> stub =
        InteractionsService::NewStub(router_->ChannelTo(address));
    ForwardUnary<kam::v1::BatchRecordInteractionsResponse>(
        router_, context, address, &part->response,
        [stub, part](grpc::ClientContext* outgoing,
                     kam::v1::BatchRecordInteractionsResponse* answer,
                     std::function<void(grpc::Status)> on_done) {
          stub->async()->BatchRecordInteractions(outgoing, &part->request, answer,
                                                 std::move(on_done));
        },
        [join, part, stub, finish_part](grpc::Status status, const grpc::ClientContext&) {
          MutexLock lock(&join->mutex);
          if (status.ok()) {
            for (const auto& result : part->response.results()) {
              if (result.index() < 0 || result.index() >= static_cast<int>(part->indexes.size())) {
                continue;
              }
              auto& mine = join->results[part->indexes[result.index()]];
              const int index = mine.index();
              mine = result;
              mine.set_index(index);
            }
          } else {
            // The owner did not take these items: each says why and that a retry is safe.
            for (int index : part->indexes) {
              join->results[index].set_code(static_cast<int32_t>(status.error_code()));
              join->results[index].set_error(status.error_message());
              join->results[index].set_reason(ReasonOf(status));
            }
          }
          finish_part();
        });
  }
  // The local part: answered when its items are (an item may wait for its account, without a
  // thread).
  if (local.empty()) {
    MutexLock lock(&join->mutex);
    finish_part();
    return reactor;
  }
  kam::v1::BatchRecordInteractionsRequest sub;
  for (int index : local) *sub.add_requests() = request->requests(index);
  book_->BatchRecordInteractionsAsync(
      sub,
      [join, local, finish_part](absl::StatusOr<kam::v1::BatchRecordInteractionsResponse> mine) {
        MutexLock lock(&join->mutex);
        if (!mine.ok()) {
          join->failure = ToGrpcStatus(mine.status());
        } else {
          for (const auto& result : mine->results()) {
            auto& slot = join->results[local[result.index()]];
            const int index = slot.index();
            slot = result;
            slot.set_index(index);
          }
        }
        finish_part();
      });
  return reactor;
}

grpc::ServerUnaryReactor* InteractionsGrpcService::GetInteraction(
    grpc::CallbackServerContext* context, const kam::v1::GetInteractionRequest* request,
    kam::v1::Interaction* response) {
  constexpr char kMethod[] = "GetInteraction";
  absl::StatusOr<kam::v1::Interaction> here = book_->GetInteraction(*request);
  std::vector<std::string> peers;
  if (router_ != nullptr && absl::IsNotFound(here.status()) && !TaskRouter::WasForwarded(context)) {
    peers = router_->Peers();
  }
  if (peers.empty()) {
    return AnswerUnary(context, metrics_, kMethod, response, [&] { return here; });
  }
  // The id does not name its account: ask every other instance, first found wins.
  struct Ask {
    Mutex mutex;
    int pending ABSL_GUARDED_BY(mutex) = 0;
    bool found ABSL_GUARDED_BY(mutex) = false;
    bool unavailable ABSL_GUARDED_BY(mutex) = false;
    // Slot i is written by gRPC for peer i before that peer's callback runs; not shared.
    std::vector<kam::v1::Interaction> answers;
  };
  auto ask = std::make_shared<Ask>();
  {
    MutexLock lock(&ask->mutex);
    ask->pending = static_cast<int>(peers.size());
  }
  ask->answers.resize(peers.size());
  auto began = std::chrono::steady_clock::now();
  CallTraceScope traced(context);  // one trace for every peer asked
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Status not_found = here.status();
  for (size_t i = 0; i < peers.size(); ++i) {
    std::shared_ptr<InteractionsService::Stub> stub =
        InteractionsService::NewStub(router_->ChannelTo(peers[i]));
    ForwardUnary<kam::v1::Interaction>(
        router_, context, peers[i], &ask->answers[i],
        [stub, request](grpc::ClientContext* outgoing, kam::v1::Interaction* answer,
                        std::function<void(grpc::Status)> on_done) {
          stub->async()->GetInteraction(outgoing, request, answer, std::move(on_done));
        },
        [ask, i, stub, reactor, response, metrics = metrics_, began, not_found, kMethod](
            grpc::Status status, const grpc::ClientContext&) {
          MutexLock lock(&ask->mutex);
          if (status.ok() && !ask->found) {
            ask->found = true;
            *response = ask->answers[i];
          }
          ask->unavailable |= status.error_code() == grpc::StatusCode::UNAVAILABLE;
          if (--ask->pending > 0) return;
          grpc::Status outcome;
          if (!ask->found) {
            outcome = ask->unavailable
                          ? ToGrpcStatus(absl::UnavailableError(
                                "not found on the instances that answered, and one did not "
                                "answer: retry"))
                          : ToGrpcStatus(not_found);
          }
          FinishCall(reactor, metrics, kMethod, began, outcome);
        });
  }
  return reactor;
}

grpc::ServerUnaryReactor* InteractionsGrpcService::ListInteractions(
    grpc::CallbackServerContext* context, const kam::v1::ListInteractionsRequest* request,
    kam::v1::ListInteractionsResponse* response) {
  constexpr char kMethod[] = "ListInteractions";
  auto route = RouteAccount(request->account_id(), context);
  if (!route.ok()) return RefuseCall(context, metrics_, kMethod, route.status());
  if (*route) {
    return Forward(router_, context, metrics_, kMethod, **route, request, response,
                   [](auto* async, auto... args) { async->ListInteractions(args...); });
  }
  return AnswerUnary(context, metrics_, kMethod, response,
                     [&] { return book_->ListInteractions(*request); });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::GetAccountHealth(
    grpc::CallbackServerContext* context, const kam::v1::GetAccountHealthRequest* request,
    kam::v1::AccountHealth* response) {
  constexpr char kMethod[] = "GetAccountHealth";
  auto route = RouteAccount(request->account_id(), context);
  if (!route.ok()) return RefuseCall(context, metrics_, kMethod, route.status());
  if (*route) {
    return Forward(router_, context, metrics_, kMethod, **route, request, response,
                   [](auto* async, auto... args) { async->GetAccountHealth(args...); });
  }
  return AnswerUnary(context, metrics_, kMethod, response,
                     [&] { return book_->GetAccountHealth(*request); });
}

}  // namespace kam::interactions
