#pragma once

// The gRPC face of the alerts service. Reads (ListAlerts, GetAlert, WatchAlerts) are answered
// from the view every instance keeps of all alerts (alerts_view.h), so any instance answers them;
// AcknowledgeAlert is a write: it travels to the task that owns the alert (acknowledger.h).
// WatchAlerts is a server-streaming reactor that replays the view's change log from a resume
// token and then follows new changes as they arrive.

#include "common/rpc_metrics.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "services/alerts/acknowledger.h"
#include "services/alerts/alerts_view.h"

namespace kam::alerts {

class AlertsGrpcService final : public kam::v1::AlertsService::CallbackService {
 public:
  AlertsGrpcService(Acknowledger* acknowledger, AlertsView* view, RpcMetrics* metrics)
      : acknowledger_(acknowledger), view_(view), metrics_(metrics) {}

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
  Acknowledger* acknowledger_;
  AlertsView* view_;
  RpcMetrics* metrics_;
};

}  // namespace kam::alerts
