#pragma once

// The gRPC face of the alerts service. Reads (ListAlerts, GetAlert, WatchAlerts) are answered
// from the view every instance keeps of all alerts (alerts_view.h), so any instance answers them;
// AcknowledgeAlert, SnoozeAlert, CreateSilence and ExpireSilence are writes: they travel to the
// task that owns what they change (alert_writer.h).
// WatchAlerts is a server-streaming reactor that replays the view's change log from a resume
// token and then follows new changes as they arrive.

#include "common/rpc_metrics.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "services/alerts/alert_writer.h"
#include "services/alerts/alerts_view.h"

namespace kam::alerts {

class AlertsGrpcService final : public kam::v1::AlertsService::CallbackService {
 public:
  AlertsGrpcService(AlertWriter* writer, AlertsView* view, RpcMetrics* metrics)
      : writer_(writer), view_(view), metrics_(metrics) {}

  grpc::ServerUnaryReactor* ListAlerts(grpc::CallbackServerContext* context,
                                       const kam::v1::ListAlertsRequest* request,
                                       kam::v1::ListAlertsResponse* response) override;
  grpc::ServerUnaryReactor* GetAlert(grpc::CallbackServerContext* context,
                                     const kam::v1::GetAlertRequest* request,
                                     kam::v1::Alert* response) override;
  grpc::ServerUnaryReactor* AcknowledgeAlert(grpc::CallbackServerContext* context,
                                             const kam::v1::AcknowledgeAlertRequest* request,
                                             kam::v1::Alert* response) override;
  grpc::ServerUnaryReactor* SnoozeAlert(grpc::CallbackServerContext* context,
                                        const kam::v1::SnoozeAlertRequest* request,
                                        kam::v1::Alert* response) override;
  grpc::ServerUnaryReactor* CreateSilence(grpc::CallbackServerContext* context,
                                          const kam::v1::CreateSilenceRequest* request,
                                          kam::v1::Silence* response) override;
  grpc::ServerUnaryReactor* ListSilences(grpc::CallbackServerContext* context,
                                         const kam::v1::ListSilencesRequest* request,
                                         kam::v1::ListSilencesResponse* response) override;
  grpc::ServerUnaryReactor* ExpireSilence(grpc::CallbackServerContext* context,
                                          const kam::v1::ExpireSilenceRequest* request,
                                          kam::v1::Silence* response) override;
  grpc::ServerWriteReactor<kam::v1::AlertChange>* WatchAlerts(
      grpc::CallbackServerContext* context, const kam::v1::WatchAlertsRequest* request) override;

 private:
  AlertWriter* writer_;
  AlertsView* view_;
  RpcMetrics* metrics_;
};

}  // namespace kam::alerts
