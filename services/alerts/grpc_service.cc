#include "services/alerts/grpc_service.h"

#include <deque>

#include "common/grpc_status.h"
#include "common/grpc_unary.h"
#include "common/mutex.h"

namespace kam::alerts {
namespace {

// One WatchAlerts stream. Owns its cursor in the view's change log; writes one change at a time
// (the callback API allows one outstanding write) and, when caught up, waits for the view's
// notification of new changes.
class WatchReactor : public grpc::ServerWriteReactor<kam::v1::AlertChange> {
 public:
  WatchReactor(AlertsView* view, AlertsView::Cursor cursor)
      : view_(view), cursor_(std::move(cursor)) {
    watcher_ = view_->Subscribe([this] { Pump(); });
    Pump();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    {
      MutexLock lock(&mutex_);
      writing_ = false;
    }
    Pump();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    // The view notifies under its watcher lock, so once Unsubscribe returns no Pump runs.
    view_->Unsubscribe(watcher_);
    delete this;
  }

 private:
  // Writes the next change, if any, unless a write is in flight or the stream ended.
  void Pump() {
    MutexLock lock(&mutex_);
    if (writing_ || finished_) return;
    if (pending_.empty()) {
      auto changes = view_->Read(&cursor_, 64);
      if (!changes.ok()) {
        // The reader fell behind the changes the view keeps.
        finished_ = true;
        Finish(ToGrpcStatus(changes.status()));
        return;
      }
      for (auto& change : *changes) pending_.push_back(std::move(change));
    }
    if (pending_.empty()) return;
    current_ = std::move(pending_.front());
    pending_.pop_front();
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    MutexLock lock(&mutex_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  AlertsView* view_;
  AlertsView::Cursor cursor_ ABSL_GUARDED_BY(mutex_);
  int watcher_ = 0;
  Mutex mutex_;
  std::deque<kam::v1::AlertChange> pending_ ABSL_GUARDED_BY(mutex_);
  kam::v1::AlertChange current_ ABSL_GUARDED_BY(mutex_);
  bool writing_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
};

// A WatchAlerts call refused before streaming anything.
class RefusedWatch : public grpc::ServerWriteReactor<kam::v1::AlertChange> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerUnaryReactor* AlertsGrpcService::ListAlerts(grpc::CallbackServerContext* context,
                                                        const kam::v1::ListAlertsRequest* request,
                                                        kam::v1::ListAlertsResponse* response) {
  return AnswerUnary(context, metrics_, "ListAlerts", response,
                     [&] { return view_->List(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::GetAlert(grpc::CallbackServerContext* context,
                                                      const kam::v1::GetAlertRequest* request,
                                                      kam::v1::Alert* response) {
  return AnswerUnary(context, metrics_, "GetAlert", response, [&] { return view_->Get(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::AcknowledgeAlert(
    grpc::CallbackServerContext* context, const kam::v1::AcknowledgeAlertRequest* request,
    kam::v1::Alert* response) {
  return AnswerUnary(context, metrics_, "AcknowledgeAlert", response,
                     [&] { return writer_->Acknowledge(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::SnoozeAlert(grpc::CallbackServerContext* context,
                                                         const kam::v1::SnoozeAlertRequest* request,
                                                         kam::v1::Alert* response) {
  return AnswerUnary(context, metrics_, "SnoozeAlert", response,
                     [&] { return writer_->Snooze(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::CreateSilence(
    grpc::CallbackServerContext* context, const kam::v1::CreateSilenceRequest* request,
    kam::v1::Silence* response) {
  return AnswerUnary(context, metrics_, "CreateSilence", response,
                     [&] { return writer_->CreateSilence(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::ListSilences(
    grpc::CallbackServerContext* context, const kam::v1::ListSilencesRequest* request,
    kam::v1::ListSilencesResponse* response) {
  return AnswerUnary(context, metrics_, "ListSilences", response,
                     [&]() -> absl::StatusOr<kam::v1::ListSilencesResponse> {
                       return writer_->ListSilences(*request);
                     });
}

grpc::ServerUnaryReactor* AlertsGrpcService::ExpireSilence(
    grpc::CallbackServerContext* context, const kam::v1::ExpireSilenceRequest* request,
    kam::v1::Silence* response) {
  return AnswerUnary(context, metrics_, "ExpireSilence", response,
                     [&] { return writer_->ExpireSilence(*request); });
}

grpc::ServerWriteReactor<kam::v1::AlertChange>* AlertsGrpcService::WatchAlerts(
    grpc::CallbackServerContext* context, const kam::v1::WatchAlertsRequest* request) {
  if (request->live_only() && !request->resume_token().empty()) {
    return new RefusedWatch(
        ToGrpcStatus(errors::InvalidField("resume_token", "cannot be combined with live_only")));
  }
  if (request->live_only()) return new WatchReactor(view_, view_->Latest());
  auto cursor = view_->After(request->resume_token());
  if (!cursor.ok()) return new RefusedWatch(ToGrpcStatus(cursor.status()));
  return new WatchReactor(view_, std::move(*cursor));
}

}  // namespace kam::alerts
