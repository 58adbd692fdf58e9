#include "services/alerts/kpi_grpc_service.h"

#include "common/grpc_unary.h"

namespace kam::kpis {

grpc::ServerUnaryReactor* KpiGrpcService::GetKpis(grpc::CallbackServerContext* context,
                                                  const kam::v1::GetKpisRequest* request,
                                                  kam::v1::KpiReport* response) {
  return AnswerUnary(context, metrics_, "GetKpis", response, [&] { return book_->Get(*request); });
}

}  // namespace kam::kpis
