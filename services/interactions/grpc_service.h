#pragma once

// The gRPC face of the interactions service: translation only.

#include "common/rpc_metrics.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "services/interactions/interactions_book.h"

namespace kam::interactions {

class InteractionsGrpcService final : public kam::v1::InteractionsService::CallbackService {
 public:
  InteractionsGrpcService(InteractionsBook* book, RpcMetrics* metrics)
      : book_(book), metrics_(metrics) {}

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
  InteractionsBook* book_;
  RpcMetrics* metrics_;
};

}  // namespace kam::interactions
