#include "services/interactions/grpc_service.h"

#include "common/grpc_unary.h"

namespace kam::interactions {

grpc::ServerUnaryReactor* InteractionsGrpcService::RecordInteraction(
    grpc::CallbackServerContext* context, const kam::v1::RecordInteractionRequest* request,
    kam::v1::Interaction* response) {
  return AnswerUnaryLater(context, metrics_, "RecordInteraction", response, [&](auto done) {
    book_->RecordInteractionAsync(*request, std::move(done));
  });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::BatchRecordInteractions(
    grpc::CallbackServerContext* context, const kam::v1::BatchRecordInteractionsRequest* request,
    kam::v1::BatchRecordInteractionsResponse* response) {
  return AnswerUnary(context, metrics_, "BatchRecordInteractions", response,
                     [&] { return book_->BatchRecordInteractions(*request); });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::GetInteraction(
    grpc::CallbackServerContext* context, const kam::v1::GetInteractionRequest* request,
    kam::v1::Interaction* response) {
  return AnswerUnary(context, metrics_, "GetInteraction", response,
                     [&] { return book_->GetInteraction(*request); });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::ListInteractions(
    grpc::CallbackServerContext* context, const kam::v1::ListInteractionsRequest* request,
    kam::v1::ListInteractionsResponse* response) {
  return AnswerUnary(context, metrics_, "ListInteractions", response,
                     [&] { return book_->ListInteractions(*request); });
}

grpc::ServerUnaryReactor* InteractionsGrpcService::GetAccountHealth(
    grpc::CallbackServerContext* context, const kam::v1::GetAccountHealthRequest* request,
    kam::v1::AccountHealth* response) {
  return AnswerUnary(context, metrics_, "GetAccountHealth", response,
                     [&] { return book_->GetAccountHealth(*request); });
}

}  // namespace kam::interactions
