#pragma once

// The gRPC face of the KPIs (kam.v1.KpiService), served by kam-alerts from the KpiBook every
// instance keeps: any instance answers for any account, manager or the whole book.

#include "common/rpc_metrics.h"
#include "kam/v1/kpis.grpc.pb.h"
#include "services/alerts/kpi_book.h"

namespace kam::kpis {

class KpiGrpcService final : public kam::v1::KpiService::CallbackService {
 public:
  KpiGrpcService(KpiBook* book, RpcMetrics* metrics) : book_(book), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetKpis(grpc::CallbackServerContext* context,
                                    const kam::v1::GetKpisRequest* request,
                                    kam::v1::KpiReport* response) override;

 private:
  KpiBook* book_;
  RpcMetrics* metrics_;
};

}  // namespace kam::kpis
