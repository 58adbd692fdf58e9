#pragma once

// The gRPC face of the alerts service. Unary calls translate to AlertsEngine; WatchAlerts is a
// server-streaming reactor that replays the change log from a resume token and then follows new
// changes as the engine commits them.

#include "common/rpc_metrics.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "services/alerts/alerts_engine.h"

namespace kam::alerts {

class AlertsGrpcService final : public kam::v1::AlertsService::CallbackService {
 public:
  AlertsGrpcService(AlertsEngine* engine, RpcMetrics* metrics)
      : engine_(engine), metrics_(metrics) {}

  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const kam::v1::ListAlertsRequest* request,
                                       kam::v1::ListAlertsResponse* response) override;
  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* context,
                                     const kam::v1::GetAlertRequest* request,
                                     kam::v1::Alert* response) override;
  grpc::ServerUnaryReactor* AcknowledgeAlert(grpc::CallbackServerContext* context,
                                             const kam::v1::AcknowledgeAlertRequest* request,
                                             kam::v1::Alert* response) override;
  grpc::ServerWriteReactor<kam::v1::AlertChange>* WatchAlerts(
      grpc::CallbackServerContext* context, const kam::v1::WatchAlertsRequest* request) override;

 private:
  AlertsEngine* engine_;
  RpcMetrics* metrics_;
};

}  // namespace kam::alerts
