#include "services/alerts/alerts_engine.h"

#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "common/trace_context.h"
#include "kam/v1/events.pb.h"
#include "services/alerts/alert_commands.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/held_back.h"
#include "services/alerts/lifecycle.h"
#include "services/alerts/portfolio.h"
#include "services/alerts/projections.h"
#include "services/alerts/timers.h"

namespace kam::alerts {

using kam::v1::Alert;

std::vector<std::string> AlertsEngine::ColumnFamilies() { return TaskColumnFamilies(); }

absl::StatusOr<std::unique_ptr<AlertsEngine>> AlertsEngine::Open(Store* store, Outbox* outbox,
                                                                 EngineOptions options) {
  auto committer = std::make_unique<OutboxCommitter>(store, outbox);
  KAM_ASSIGN_OR_RETURN(auto engine, Open(store, committer.get(), std::move(options)));
  engine->owned_committer_ = std::move(committer);
  return engine;
}

absl::StatusOr<std::unique_ptr<AlertsEngine>> AlertsEngine::Open(Store* store,
                                                                 BatchCommitter* committer,
                                                                 EngineOptions options) {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> format, store->Get(kMetaCf, kFormatKey));
  if (!format) {
    auto alerts = store->NewIterator(kAlertsCf);
    alerts->SeekToFirst();
    KAM_RETURN_IF_ERROR(FromRocks(alerts->status(), "scan alerts"));
    if (alerts->Valid()) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data-dir ", store->path(),
                       " was written by an older kam-alerts (alerts not kept per "
                       "partition); start with an empty --data-dir: the state is rebuilt from the "
                       "input topics"));
    }
    rocksdb::WriteBatch batch;
    KAM_RETURN_IF_ERROR(
        FromRocks(batch.Put(store->Cf(kMetaCf), kFormatKey, kFormat), "store format put"));
    KAM_RETURN_IF_ERROR(store->Write(&batch));
  } else if (*format == "2") {
    return absl::FailedPreconditionError(absl::StrCat(
        "--data-dir ", store->path(),
        " was written by an older kam-alerts (one change log per "
        "instance, not per task); start with an empty --data-dir and a new --consumer-group: the "
        "state is rebuilt from the input topics"));
  } else if (*format != kFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data-dir ", store->path(), ": unknown alerts store format ", *format));
  }
  KAM_ASSIGN_OR_RETURN(PageTokens tokens, PageTokens::ForStore(store));
  if (!options.wall_clock) options.wall_clock = [] { return MillisFromTimestamp(NowTimestamp()); };
  std::unique_ptr<AlertsEngine> engine(
      new AlertsEngine(store, committer, std::move(options), std::move(tokens)));
  return engine;
}

AlertsEngine::AlertsEngine(Store* store, BatchCommitter* committer, EngineOptions options,
                           PageTokens tokens)
    : store_(store),
      committer_(committer),
      options_(std::move(options)),
      tokens_(std::move(tokens)) {}

AlertsEngine::~AlertsEngine() = default;

// A unit of work: the engine's lock and one Tx, from Begin to commit or drop.
class AlertsEngine::Unit : public UnitOfWork {
 public:
  Unit(AlertsEngine* engine, StagedBatch* batch, std::vector<OutboundEvent>* events)
      : lock_(&engine->mutex_), engine_(engine), tx_(batch, events, &engine->options_) {}

  absl::Status Apply(const ConsumedRecord& record) override {
    return engine_->ApplyRecord(tx_, record);
  }
  absl::Status Punctuate(int64_t wall_millis) override {
    return engine_->PunctuateTx(tx_, wall_millis);
  }
  absl::Status Seal() override { return tx_.Flush(); }
  void Committed() override { engine_->Committed(tx_); }

  AlertTx& tx() { return tx_; }

 private:
  MutexLock lock_;
  AlertsEngine* engine_;
  AlertTx tx_;
};

std::unique_ptr<UnitOfWork> AlertsEngine::Begin(StagedBatch* batch,
                                                std::vector<OutboundEvent>* events) {
  return std::make_unique<Unit>(this, batch, events);
}

void AlertsEngine::TaskRunning(int32_t task) {
  // A running task's clock follows the wall clock once its partition has been idle a while.
  last_activity_wall_[task] = options_.wall_clock();
  MutexLock lock(&running_mutex_);
  running_.insert(task);
}

void AlertsEngine::TaskClosed(int32_t task) {
  // Another instance owns the partition now: its clock and timers are no longer ours to move.
  last_activity_wall_.erase(task);
  MutexLock lock(&running_mutex_);
  running_.erase(task);
}

bool AlertsEngine::Runs(int32_t p) const {
  MutexLock lock(&running_mutex_);
  return running_.count(p) > 0;
}

absl::Status AlertsEngine::ApplyRecord(AlertTx& tx, const ConsumedRecord& record) {
  tx.SetTask(record.partition);
  if (record.topic == options_.portfolio_topic) {
    return OnPortfolioFact(tx, record.partition, record, options_);
  }
  if (record.topic == options_.commands_topic) return OnCommand(tx, record.partition, record);
  kam::v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.v1.EventEnvelope");
  }
  if (envelope.payload_case() == kam::v1::EventEnvelope::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError("value: envelope without payload");
  }
  const int32_t p = record.partition;
  if (record.topic == kafka_topics::kAccounts) {
    KAM_RETURN_IF_ERROR(OnAccountEvent(tx, p, envelope, record, options_));
    KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
    return ReportPortfolioFact(tx, p, record.key, clock, options_);
  }
  if (record.topic == kafka_topics::kManagers) {
    return OnManagerEvent(tx, p, envelope, record, options_);
  }
  if (record.topic == kafka_topics::kInteractions) {
    // Only the activity stream counts against idleness: the clock follows interactions.
    auto activity = last_activity_wall_.find(p);
    if (activity != last_activity_wall_.end()) activity->second = options_.wall_clock();
    KAM_RETURN_IF_ERROR(OnInteraction(tx, p, envelope, record, options_));
    if (!envelope.has_interaction_recorded()) return absl::OkStatus();
    return ReportPortfolioFact(
        tx, p, record.key,
        MillisFromTimestamp(envelope.interaction_recorded().interaction().occur_time()), options_);
  }
  return absl::OkStatus();
}

absl::Status AlertsEngine::PunctuateTx(AlertTx& tx, int64_t wall_millis) {
  for (const auto& [p, last] : last_activity_wall_) {
    if (wall_millis - last < options_.idle_millis) continue;
    KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
    if (wall_millis <= clock) continue;
    // Idle: nothing is on its way, so everything due up to now fires.
    KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, wall_millis, nullptr, options_));
    KAM_RETURN_IF_ERROR(tx.Advance(p, wall_millis));
  }
  // Held-back interactions whose account never showed up go to the dead-letter topic; only the
  // running tasks' ones: another instance expires the rest.
  for (const auto& [p, last] : last_activity_wall_) {
    KAM_RETURN_IF_ERROR(ExpireHeldBack(tx, p, wall_millis, options_.unknown_account_grace_millis));
    KAM_RETURN_IF_ERROR(ExpireCommandResults(tx, p, wall_millis));
    KAM_RETURN_IF_ERROR(DropEndedSilences(tx, p, wall_millis));
  }
  return absl::OkStatus();
}

std::map<AlertsEngine::ChangeKey, uint64_t> AlertsEngine::changes_by_kind() const {
  MutexLock lock(&counts_mutex_);
  return changes_by_kind_;
}

void AlertsEngine::Committed(const AlertTx& tx) {
  changes_total_ += tx.published();
  if (tx.published() > 0) {
    MutexLock lock(&counts_mutex_);
    for (const auto& [task, change, traceparent] : tx.changes()) {
      ++changes_by_kind_[{change.alert().rule(), change.alert().severity(), change.kind()}];
    }
  }
  // One line per published change, under the trace that caused it: a grep for an interaction's
  // trace id ends here.
  for (const auto& [task, change, traceparent] : tx.changes()) {
    trace::Scope traced(trace::Parse(traceparent));
    log::Info("alert changed", {{"kind", kam::v1::AlertChangeKind_Name(change.kind())},
                                {"rule", kam::v1::AlertRule_Name(change.alert().rule())},
                                {"fingerprint", change.alert().fingerprint()},
                                {"alert_id", change.alert().id()},
                                {"task", std::to_string(task)}});
  }
  parked_total_ += tx.parked();
}

absl::StatusOr<Alert> AlertsEngine::AcknowledgeAlert(
    const kam::v1::AcknowledgeAlertRequest& request) {
  KAM_RETURN_IF_ERROR(CheckAcknowledgeRequest(request));
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  Unit unit(this, &batch, &events);  // holds mutex_ until the acknowledgement is durable
  KAM_ASSIGN_OR_RETURN(auto found, FindAlert(request.id()));
  if (!found) return NoAlert(request.id());
  unit.tx().SetTask(found->first);
  KAM_ASSIGN_OR_RETURN(Alert acknowledged,
                       AcknowledgeInTx(unit.tx(), request, options_.wall_clock()));
  if (unit.tx().published() == 0) return acknowledged;  // already acknowledged
  KAM_RETURN_IF_ERROR(unit.Seal());
  KAM_RETURN_IF_ERROR(committer_->Commit(&batch, std::move(events), {}));
  unit.Committed();
  return acknowledged;
}

}  // namespace kam::alerts
