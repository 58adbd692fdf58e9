#include "services/alerts/alert_tx.h"

#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"
#include "common/time_util.h"
#include "common/trace_context.h"
#include "services/alerts/alert_store.h"
#include "services/alerts/cloud_event.h"
#include "services/alerts/damping.h"
#include "services/alerts/lifecycle.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;
using kam::v1::Alert;

absl::StatusOr<AlertAccountState*> AlertTx::Account(int32_t p, const std::string& id) {
  std::string key = PartKey(p, id);
  auto it = accounts_.find(key);
  if (it != accounts_.end()) return &it->second;
  KAM_ASSIGN_OR_RETURN(auto loaded, LoadMessage<AlertAccountState>(*batch_, kAccountsCf, key));
  AlertAccountState& state = accounts_[key];
  if (loaded) state = *loaded;
  state.set_account_id(id);
  return &state;
}

absl::StatusOr<AlertManagerState*> AlertTx::Manager(int32_t p, const std::string& id) {
  std::string key = PartKey(p, id);
  auto it = managers_.find(key);
  if (it != managers_.end()) return &it->second;
  KAM_ASSIGN_OR_RETURN(auto loaded, LoadMessage<AlertManagerState>(*batch_, kManagersCf, key));
  AlertManagerState& state = managers_[key];
  if (loaded) state = *loaded;
  state.set_manager_id(id);
  return &state;
}

absl::StatusOr<kam::internal::v1::AccountKpiState*> AlertTx::Kpis(int32_t p,
                                                                  const std::string& id) {
  std::string key = PartKey(p, id);
  auto it = kpis_.find(key);
  if (it != kpis_.end()) return &it->second;
  KAM_ASSIGN_OR_RETURN(auto loaded,
                       LoadMessage<kam::internal::v1::AccountKpiState>(*batch_, kKpisCf, key));
  kam::internal::v1::AccountKpiState& state = kpis_[key];
  if (loaded) state = *loaded;
  state.set_account_id(id);
  return &state;
}

absl::StatusOr<int64_t> AlertTx::Clock(int32_t p) {
  auto it = clocks_.find(p);
  if (it != clocks_.end()) return it->second;
  KAM_ASSIGN_OR_RETURN(auto stored, batch_->Get(kClockCf, Partition(p)));
  int64_t clock = stored ? static_cast<int64_t>(DecodeUint64(*stored)) : 0;
  clocks_[p] = clock;
  return clock;
}

absl::Status AlertTx::Advance(int32_t p, int64_t at) {
  KAM_ASSIGN_OR_RETURN(int64_t clock, Clock(p));
  if (at > clock) clocks_[p] = at;
  return absl::OkStatus();
}

absl::Status AlertTx::Schedule(const TimerKey& timer) {
  KAM_RETURN_IF_ERROR(timer.CheckEncodable());
  auto scanned = scanned_upto_.find(timer.partition);
  if (scanned != scanned_upto_.end() && timer.due_millis <= scanned->second) {
    scanned->second = timer.due_millis - 1;  // the next scan must see it
  }
  return batch_->Put(kTimersCf, timer.Encode(), "");
}

const std::string& AlertTx::FingerprintFor(kam::v1::AlertRule rule, const std::string& subject) {
  auto [it, inserted] = fingerprints_.try_emplace({rule, subject});
  if (inserted) it->second = FingerprintOf(rule, subject);
  return it->second;
}

absl::StatusOr<const Alert*> AlertTx::LatestRef(const std::string& fingerprint) {
  const std::string key = PartKey(task_, fingerprint);
  auto staged = latest_.find(key);
  if (staged != latest_.end()) return &staged->second;
  // Most lookups find nothing (no alert ever fired for the fingerprint); remember that too.
  auto read = latest_read_.find(key);
  if (read == latest_read_.end()) {
    KAM_ASSIGN_OR_RETURN(auto id, batch_->Get(kLatestCf, key));
    std::optional<Alert> alert;
    if (id) {
      KAM_ASSIGN_OR_RETURN(alert, LoadMessage<Alert>(*batch_, kAlertsCf, PartKey(task_, *id)));
    }
    read = latest_read_.emplace(key, std::move(alert)).first;
  }
  return read->second ? &*read->second : nullptr;
}

absl::StatusOr<std::optional<Alert>> AlertTx::Latest(const std::string& fingerprint) {
  KAM_ASSIGN_OR_RETURN(const Alert* latest, LatestRef(fingerprint));
  return latest ? std::optional<Alert>(*latest) : std::nullopt;
}

absl::StatusOr<std::optional<Alert>> AlertTx::FindAlert(const std::string& id) {
  auto staged = staged_alerts_.find(PartKey(task_, id));
  if (staged != staged_alerts_.end()) return std::optional<Alert>(staged->second);
  return LoadMessage<Alert>(*batch_, kAlertsCf, PartKey(task_, id));
}

absl::StatusOr<bool> AlertTx::IsFiring(kam::v1::AlertRule rule, const std::string& subject) {
  // Asked several times per record (the portfolio fact asks for every open request): no copy.
  KAM_ASSIGN_OR_RETURN(const Alert* latest, LatestRef(FingerprintFor(rule, subject)));
  return latest != nullptr && IsOpen(*latest);
}

absl::Status AlertTx::Transition(kam::v1::AlertRule rule, const std::string& subject,
                                 const std::string& account_id, const std::string& manager_id,
                                 const Desired& desired, int64_t at_millis) {
  const std::string fingerprint = FingerprintFor(rule, subject);
  // A verdict whose wait ended before this one is applied first, as of the end of its wait:
  // whether it acts must not depend on when a timer sweep happened to run.
  KAM_RETURN_IF_ERROR(ApplyOverdueVerdict(*this, rule, fingerprint, at_millis));
  KAM_ASSIGN_OR_RETURN(std::optional<Alert> latest, Latest(fingerprint));
  std::string group;
  if (!account_id.empty()) {
    KAM_ASSIGN_OR_RETURN(AlertAccountState * account, Account(task_, account_id));
    group = account->parent_account_id();
  }
  const bool open = latest && IsOpen(*latest);
  KAM_ASSIGN_OR_RETURN(bool waits, WaitsOutDamping(*this, {rule, subject, account_id, manager_id},
                                                   fingerprint, desired, open, at_millis));
  if (waits) return absl::OkStatus();
  std::optional<AlertStep> step = NextAlert(
      latest, {rule, fingerprint, account_id, manager_id, std::move(group)}, desired, at_millis);
  if (step) return Stage(std::move(step->alert), step->kind);
  return absl::OkStatus();
}

const RulesConfig& AlertTx::rules() const {
  static const RulesConfig* const kBuiltIn = new RulesConfig();
  return options_ != nullptr ? options_->rules : *kBuiltIn;
}

absl::Status AlertTx::Annotate(Alert& alert) {
  // A resolution keeps the silences and group its alert had, for the record, but is always
  // notified: a notifier must be able to close what it opened before a snooze or silence began,
  // and resolving what it never opened is a no-op for Alertmanager and PagerDuty alike.
  if (alert.state() == kam::v1::ALERT_STATE_RESOLVED) {
    alert.set_notification_suppressed(false);
    return absl::OkStatus();
  }
  int tier = 0;
  int industry = 0;
  if (!alert.account_id().empty()) {
    KAM_ASSIGN_OR_RETURN(AlertAccountState * account, Account(task_, alert.account_id()));
    tier = account->tier();
    industry = account->industry();
    alert.set_account_tier(static_cast<kam::v1::Tier>(account->tier()));
    alert.set_key_account(account->key_account());
  }
  alert.clear_silenced_by();
  alert.clear_group_alert_id();
  bool quiet_in_group = false;
  if (options_ != nullptr) {
    if (options_->silences_matching) {
      // Silences are planned in wall time (an outage, a reorganisation): they apply to the changes
      // made while they are active, whatever the event time of the record that caused them.
      const int64_t at =
          options_->wall_clock ? options_->wall_clock() : MillisFromTimestamp(alert.update_time());
      for (auto& id : options_->silences_matching(alert, tier, industry, at)) {
        alert.add_silenced_by(std::move(id));
      }
    }
    if (options_->open_overload_alert && IsGroupedRule(alert.rule()) &&
        !alert.manager_id().empty()) {
      alert.set_group_alert_id(options_->open_overload_alert(alert.manager_id()));
      quiet_in_group = !alert.group_alert_id().empty() &&
                       options_->rules.quiet_when_grouped.count(alert.rule()) > 0;
    }
  }
  alert.set_notification_suppressed(alert.state() == kam::v1::ALERT_STATE_SNOOZED ||
                                    alert.silenced_by_size() > 0 || quiet_in_group);
  return absl::OkStatus();
}

absl::Status AlertTx::Stage(Alert alert, kam::v1::AlertChangeKind kind) {
  if (kind != kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED) KAM_RETURN_IF_ERROR(Annotate(alert));
  latest_[PartKey(task_, alert.fingerprint())] = alert;
  // By id too: a transaction may resolve one instance and fire the next of the same
  // fingerprint, and both records must be written.
  staged_alerts_[PartKey(task_, alert.id())] = alert;
  if (kind != kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED) Publish(kind, alert);
  return absl::OkStatus();
}

void AlertTx::Publish(kam::v1::AlertChangeKind kind, const Alert& alert) {
  kam::v1::AlertChange change;
  change.set_kind(kind);
  *change.mutable_alert() = alert;
  changes_.push_back({task_, std::move(change), trace::CurrentTraceparent()});
}

absl::Status AlertTx::Flush() {
  for (const auto& [key, state] : accounts_) {
    KAM_RETURN_IF_ERROR(batch_->Put(kAccountsCf, key, state.SerializeAsString()));
  }
  for (const auto& [key, state] : managers_) {
    KAM_RETURN_IF_ERROR(batch_->Put(kManagersCf, key, state.SerializeAsString()));
  }
  for (const auto& [key, state] : kpis_) {
    KAM_RETURN_IF_ERROR(batch_->Put(kKpisCf, key, state.SerializeAsString()));
  }
  for (const auto& [p, clock] : clocks_) {
    KAM_RETURN_IF_ERROR(
        batch_->Put(kClockCf, Partition(p), EncodeUint64(static_cast<uint64_t>(clock))));
  }
  for (const auto& [key, alert] : staged_alerts_) {
    KAM_RETURN_IF_ERROR(batch_->Put(kAlertsCf, key, alert.SerializeAsString()));
  }
  for (const auto& [key, alert] : latest_) {
    KAM_RETURN_IF_ERROR(batch_->Put(kLatestCf, key, alert.id()));
  }
  // Each task numbers its changes; the number is part of the task's state (changelogged), so
  // whichever instance runs the task next continues the sequence.
  std::map<int32_t, uint64_t> sequences;
  for (const auto& [task, change, traceparent] : changes_) {
    auto [it, first] = sequences.try_emplace(task, 0);
    if (first) {
      KAM_ASSIGN_OR_RETURN(auto stored, batch_->Get(kChangesCf, Partition(task)));
      it->second = stored ? DecodeUint64(*stored) : 0;
    }
    const uint64_t sequence = ++it->second;
    KAM_RETURN_IF_ERROR(batch_->Put(kChangesCf, Partition(task) + EncodeUint64(sequence),
                                    change.SerializeAsString()));
    OutboundEvent event;
    event.topic = kafka_topics::kAlerts;
    event.key = change.alert().fingerprint();
    event.event_id = CloudEventId(change.alert());
    event.traceparent = traceparent;
    event.raw_value = RenderCloudEvent(change, task, sequence, traceparent);
    events_->push_back(std::move(event));
  }
  for (const auto& [task, sequence] : sequences) {
    KAM_RETURN_IF_ERROR(batch_->Put(kChangesCf, Partition(task), EncodeUint64(sequence)));
  }
  return absl::OkStatus();
}

}  // namespace kam::alerts
