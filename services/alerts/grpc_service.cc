#include "services/alerts/grpc_service.h"

#include <deque>
#include <mutex>

#include "common/grpc_unary.h"

namespace kam::alerts {
namespace {

// One WatchAlerts stream. Owns its position in the change log; writes one change at a time (the
// callback API allows one outstanding write) and, when caught up, waits for the engine's
// notification of new commits.
class WatchReactor : public grpc::ServerWriteReactor<kam::v1::AlertChange> {
 public:
  WatchReactor(AlertsEngine* engine, std::string after)
      : engine_(engine), after_(std::move(after)) {
    watcher_ = engine_->Subscribe([this] { Pump(); });
    Pump();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "client went away"));
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      writing_ = false;
    }
    Pump();
  }

  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }

  void OnDone() override {
    // The engine notifies under its watcher lock, so once Unsubscribe returns no Pump runs.
    engine_->Unsubscribe(watcher_);
    delete this;
  }

 private:
  // Writes the next change, if any, unless a write is in flight or the stream ended.
  void Pump() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (writing_ || finished_) return;
    if (pending_.empty()) {
      auto changes = engine_->ChangesAfter(after_, 64);
      if (!changes.ok()) {
        finished_ = true;
        Finish(grpc::Status(grpc::StatusCode::INTERNAL, std::string(changes.status().message())));
        return;
      }
      for (auto& change : *changes) pending_.push_back(std::move(change));
    }
    if (pending_.empty()) return;
    current_ = std::move(pending_.front());
    pending_.pop_front();
    after_ = current_.resume_token();
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishOnce(const grpc::Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  AlertsEngine* engine_;
  std::string after_;
  int watcher_ = 0;
  std::mutex mutex_;
  std::deque<kam::v1::AlertChange> pending_;
  kam::v1::AlertChange current_;
  bool writing_ = false;
  bool finished_ = false;
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
                     [&] { return engine_->ListAlerts(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::GetAlert(grpc::CallbackServerContext* context,
                                                      const kam::v1::GetAlertRequest* request,
                                                      kam::v1::Alert* response) {
  return AnswerUnary(context, metrics_, "GetAlert", response,
                     [&] { return engine_->GetAlert(*request); });
}

grpc::ServerUnaryReactor* AlertsGrpcService::AcknowledgeAlert(
    grpc::CallbackServerContext* context, const kam::v1::AcknowledgeAlertRequest* request,
    kam::v1::Alert* response) {
  return AnswerUnary(context, metrics_, "AcknowledgeAlert", response,
                     [&] { return engine_->AcknowledgeAlert(*request); });
}

grpc::ServerWriteReactor<kam::v1::AlertChange>* AlertsGrpcService::WatchAlerts(
    grpc::CallbackServerContext* context, const kam::v1::WatchAlertsRequest* request) {
  if (request->live_only() && !request->resume_token().empty()) {
    return new RefusedWatch(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                         "resume_token: cannot be combined with live_only"));
  }
  std::string after = request->live_only() ? engine_->LatestToken() : request->resume_token();
  auto check = engine_->ChangesAfter(after, 0);
  if (!check.ok()) {
    return new RefusedWatch(
        grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(check.status().message())));
  }
  return new WatchReactor(engine_, after);
}

}  // namespace kam::alerts
