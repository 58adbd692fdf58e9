#pragma once

// The gRPC face of the interactions service: translation, and routing. Any instance answers any
// call: a call about an account whose task runs on another instance is forwarded there
// (TaskRouter); a batch is split by owner and answered per item; GetInteraction, whose id does
// not name its account, asks the other instances when it is not found here.

#include <memory>

#include "common/rpc_metrics.h"
#include "common/task_router.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "services/interactions/interactions_book.h"

namespace kam::interactions {

class InteractionsGrpcService final : public kam::v1::InteractionsService::CallbackService {
 public:
  // `router` may be null: one instance, everything served here.
  InteractionsGrpcService(InteractionsBook* book, TaskRouter* router, RpcMetrics* metrics,
                          int max_batch_items = InteractionsOptions().max_batch_items)
      : book_(book), router_(router), metrics_(metrics), max_batch_items_(max_batch_items) {}

  grpc::ServerUnaryReactor* RecordInteraction(grpc::CallbackServerContext* context,
                                              const kam::v1::RecordInteractionRequest* request,
                                              kam::v1::Interaction* response) override;
  grpc::ServerUnaryReactor* BatchRecordInteractions(
      grpc::CallbackServerContext* context, const kam::v1::BatchRecordInteractionsRequest* request,
      kam::v1::BatchRecordInteractionsResponse* response) override;
  grpc::ServerUnaryReactor* GetInteraction(grpc::CallbackServerContext* context,
                                           const kam::v1::GetInteractionRequest* request,
                                           kam::v1::Interaction* response) override;
  grpc::ServerUnaryReactor* ListInteractions(grpc::CallbackServerContext* context,
                                             const kam::v1::ListInteractionsRequest* request,
                                             kam::v1::ListInteractionsResponse* response) override;
  grpc::ServerUnaryReactor* GetAccountHealth(grpc::CallbackServerContext* context,
                                             const kam::v1::GetAccountHealthRequest* request,
                                             kam::v1::AccountHealth* response) override;

 private:
  // Where a call about `account_id` is answered: nullopt = here (also when the account id is
  // missing: the book names the field), an address = forward, an error = answer with it.
  absl::StatusOr<std::optional<std::string>> RouteAccount(
      const std::string& account_id, const grpc::CallbackServerContext* context);
  std::unique_ptr<kam::v1::InteractionsService::Stub> StubTo(const std::string& address);

  InteractionsBook* book_;
  TaskRouter* router_;
  RpcMetrics* metrics_;
  int max_batch_items_;
};

}  // namespace kam::interactions
