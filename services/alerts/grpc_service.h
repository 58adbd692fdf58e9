#pragma once

// The gRPC face of the alerts service. Reads (ListAlerts, GetAlert, WatchAlerts) are answered
// from the view every instance keeps of all alerts (alerts_view.h), so any instance answers them;
// AcknowledgeAlert is a write and goes to the engine of the instance that runs the alert's task.
// WatchAlerts is a server-streaming reactor that replays the view's change log from a resume
// token and then follows new changes as they arrive.

#include "common/rpc_metrics.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "services/alerts/alerts_engine.h"
#include "services/alerts/alerts_view.h"

namespace kam::alerts {

class AlertsGrpcService final : public kam::v1::AlertsService::CallbackService {
 public:
  AlertsGrpcService(AlertsEngine* engine, AlertsView* view, RpcMetrics* metrics)
      : engine_(engine), view_(view), metrics_(metrics) {}

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
  // The engine acknowledges alerts of the tasks it runs; for another instance's, says so.
  absl::StatusOr<kam::v1::Alert> Acknowledge(const kam::v1::AcknowledgeAlertRequest& request);

  AlertsEngine* engine_;
  AlertsView* view_;
  RpcMetrics* metrics_;
};

}  // namespace kam::alerts
