#include "services/alerts/alerts_engine.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/fingerprint.h"
#include "common/interaction_kinds.h"
#include "common/kafka_topics.h"
#include "common/logging.h"
#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "services/alerts/cloud_event.h"
#include "services/alerts/timer_key.h"

namespace kam::alerts {
namespace {

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;
using kam::v1::Alert;

constexpr char kAccountsCf[] = "alert_accounts";
constexpr char kManagersCf[] = "alert_managers";
constexpr char kAlertsCf[] = "alerts";
constexpr char kLatestCf[] = "latest";
constexpr char kChangesCf[] = "changes";
constexpr char kTimersCf[] = "timers";
constexpr char kParkedCf[] = "parked";
constexpr char kClockCf[] = "clock";
constexpr char kSequenceKey[] = "alerts.change_sequence";
constexpr char kSource[] = "kam-alerts";

std::string Partition(int32_t partition) {
  return EncodeUint64(static_cast<uint64_t>(partition)).substr(4);
}
std::string PartKey(int32_t partition, const std::string& id) { return Partition(partition) + id; }
std::string ParkedPrefix(int32_t partition, const std::string& account) {
  return Partition(partition) + account + std::string(1, '\0');
}

std::string FingerprintOf(kam::v1::AlertRule rule, const std::string& subject) {
  return Sha256Hex(absl::StrCat(kam::v1::AlertRule_Name(rule), "|", subject)).substr(0, 16);
}

bool IsOpen(const Alert& alert) {
  return alert.state() == kam::v1::ALERT_STATE_FIRING ||
         alert.state() == kam::v1::ALERT_STATE_ACKNOWLEDGED;
}

}  // namespace

// One group of records (or a Tick, or an Acknowledge) committed together: the state it touches
// is read once, changed in memory across the group and written out by Flush; alert transitions
// and their events; timers and held-back records go straight to the batch, whose reads see them.
class AlertsEngine::Tx {
 public:
  Tx(AlertsEngine* engine, StagedBatch* batch, std::vector<OutboundEvent>* events)
      : engine_(engine),
        batch_(batch),
        events_(events),
        first_sequence_(engine->committed_sequence_.load()),
        sequence_(first_sequence_) {}

  absl::StatusOr<AlertAccountState*> Account(int32_t p, const std::string& id) {
    std::string key = PartKey(p, id);
    auto it = accounts_.find(key);
    if (it != accounts_.end()) return &it->second;
    KAM_ASSIGN_OR_RETURN(auto loaded, LoadMessage<AlertAccountState>(*batch_, kAccountsCf, key));
    AlertAccountState& state = accounts_[key];
    if (loaded) state = *loaded;
    state.set_account_id(id);
    return &state;
  }

  absl::StatusOr<AlertManagerState*> Manager(int32_t p, const std::string& id) {
    std::string key = PartKey(p, id);
    auto it = managers_.find(key);
    if (it != managers_.end()) return &it->second;
    KAM_ASSIGN_OR_RETURN(auto loaded, LoadMessage<AlertManagerState>(*batch_, kManagersCf, key));
    AlertManagerState& state = managers_[key];
    if (loaded) state = *loaded;
    state.set_manager_id(id);
    return &state;
  }

  absl::StatusOr<int64_t> Clock(int32_t p) {
    auto it = clocks_.find(p);
    if (it != clocks_.end()) return it->second;
    KAM_ASSIGN_OR_RETURN(auto stored, batch_->Get(kClockCf, Partition(p)));
    int64_t clock = stored ? static_cast<int64_t>(DecodeUint64(*stored)) : 0;
    clocks_[p] = clock;
    return clock;
  }
  absl::Status Advance(int32_t p, int64_t at) {
    KAM_ASSIGN_OR_RETURN(int64_t clock, Clock(p));
    if (at > clock) clocks_[p] = at;
    return absl::OkStatus();
  }

  // Stores a timer; FireDueTimers fires it, at its due time, once event time passes it.
  absl::Status Schedule(const TimerKey& timer) {
    auto scanned = scanned_upto_.find(timer.partition);
    if (scanned != scanned_upto_.end() && timer.due_millis <= scanned->second) {
      scanned->second = timer.due_millis - 1;  // the next scan must see it
    }
    return batch_->Put(kTimersCf, timer.Encode(), "");
  }
  // Partition p's timers due at or before this time were all fired in this transaction (and
  // none was scheduled at or before it since): a scan up to it would find nothing.
  std::map<int32_t, int64_t>& scanned_upto() { return scanned_upto_; }

  // FingerprintOf, remembered: a record asks for the same few fingerprints several times.
  const std::string& FingerprintFor(kam::v1::AlertRule rule, const std::string& subject) {
    auto [it, inserted] = fingerprints_.try_emplace({rule, subject});
    if (inserted) it->second = FingerprintOf(rule, subject);
    return it->second;
  }

  absl::StatusOr<std::optional<Alert>> Latest(const std::string& fingerprint) {
    auto staged = latest_.find(fingerprint);
    if (staged != latest_.end()) return std::optional<Alert>(staged->second);
    // Most lookups find nothing (no alert ever fired for the fingerprint); remember that too.
    auto read = latest_read_.find(fingerprint);
    if (read != latest_read_.end()) return read->second;
    KAM_ASSIGN_OR_RETURN(auto id, batch_->Get(kLatestCf, fingerprint));
    std::optional<Alert> alert;
    if (id) {
      KAM_ASSIGN_OR_RETURN(alert, LoadMessage<Alert>(*batch_, kAlertsCf, *id));
    }
    latest_read_.emplace(fingerprint, alert);
    return alert;
  }

  // Moves the alert of `fingerprint` to what `desired` says, publishing each state change.
  absl::Status Transition(kam::v1::AlertRule rule, const std::string& subject,
                          const std::string& account_id, const std::string& manager_id,
                          const Desired& desired, int64_t at_millis) {
    const std::string fingerprint = FingerprintFor(rule, subject);
    KAM_ASSIGN_OR_RETURN(std::optional<Alert> current, Latest(fingerprint));
    const bool open = current && IsOpen(*current);
    if (!desired.open && !open) return absl::OkStatus();
    const auto at = TimestampFromMillis(at_millis);
    Alert alert;
    kam::v1::AlertChangeKind kind = kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED;
    if (desired.open && !open) {
      int64_t instance = 1;
      if (current) {
        std::vector<std::string> parts = absl::StrSplit(current->id(), '-');
        int64_t previous = 0;
        if (absl::SimpleAtoi(parts.back(), &previous)) instance = previous + 1;
      }
      alert.set_id(absl::StrCat(fingerprint, "-", instance));
      alert.set_fingerprint(fingerprint);
      alert.set_rule(rule);
      alert.set_state(kam::v1::ALERT_STATE_FIRING);
      *alert.mutable_start_time() = at;
      alert.set_etag("1");
      kind = kam::v1::ALERT_CHANGE_KIND_FIRED;
    } else {
      alert = *current;
      alert.set_etag(std::to_string(std::stoll(alert.etag().empty() ? "0" : alert.etag()) + 1));
      if (!desired.open) {
        alert.set_state(kam::v1::ALERT_STATE_RESOLVED);
        *alert.mutable_resolve_time() = at;
        kind = kam::v1::ALERT_CHANGE_KIND_RESOLVED;
      } else if (desired.severity != current->severity()) {
        kind = kam::v1::ALERT_CHANGE_KIND_SEVERITY_CHANGED;
      }
    }
    if (desired.open) {
      alert.set_severity(desired.severity);
      alert.set_summary(desired.summary);
      alert.clear_evidence();
      for (const auto& [name, value] : desired.evidence) {
        auto* evidence = alert.add_evidence();
        evidence->set_name(name);
        evidence->set_value(value);
      }
    }
    alert.set_account_id(account_id);
    alert.set_manager_id(manager_id);
    *alert.mutable_update_time() = at;
    StageAlert(alert);
    if (kind != kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED) Publish(kind, alert);
    return absl::OkStatus();
  }

  void StageAlert(const Alert& alert) {
    latest_[alert.fingerprint()] = alert;
    // By id too: a group may resolve one instance and fire the next of the same fingerprint,
    // and both records must be written.
    staged_alerts_[alert.id()] = alert;
  }

  void Publish(kam::v1::AlertChangeKind kind, const Alert& alert) {
    kam::v1::AlertChange change;
    uint64_t sequence = ++sequence_;
    change.set_resume_token(std::to_string(sequence));
    change.set_kind(kind);
    *change.mutable_alert() = alert;
    changes_.emplace_back(sequence, change);
    OutboundEvent event;
    event.topic = kafka_topics::kAlerts;
    event.key = alert.fingerprint();
    event.event_id = absl::StrCat(alert.id(), "/", sequence);
    event.raw_value = RenderCloudEvent(change);
    events_->push_back(std::move(event));
  }

  absl::Status Put(std::string_view cf, const std::string& key, const std::string& value) {
    return batch_->Put(cf, key, value);
  }
  absl::Status Delete(std::string_view cf, const std::string& key) {
    return batch_->Delete(cf, key);
  }
  // The store as this transaction left it so far. No writes while the iterator lives.
  std::unique_ptr<rocksdb::Iterator> NewIterator(std::string_view cf) {
    return batch_->NewIterator(cf);
  }
  void Emit(OutboundEvent event) { events_->push_back(std::move(event)); }
  void CountParked() { ++parked_; }
  uint64_t parked() const { return parked_; }

  // Writes out the state kept in memory; once, at the end of the transaction.
  absl::Status Flush() {
    for (const auto& [key, state] : accounts_) {
      KAM_RETURN_IF_ERROR(batch_->Put(kAccountsCf, key, state.SerializeAsString()));
    }
    for (const auto& [key, state] : managers_) {
      KAM_RETURN_IF_ERROR(batch_->Put(kManagersCf, key, state.SerializeAsString()));
    }
    for (const auto& [p, clock] : clocks_) {
      KAM_RETURN_IF_ERROR(
          batch_->Put(kClockCf, Partition(p), EncodeUint64(static_cast<uint64_t>(clock))));
    }
    for (const auto& [id, alert] : staged_alerts_) {
      KAM_RETURN_IF_ERROR(batch_->Put(kAlertsCf, id, alert.SerializeAsString()));
    }
    for (const auto& [fingerprint, alert] : latest_) {
      KAM_RETURN_IF_ERROR(batch_->Put(kLatestCf, fingerprint, alert.id()));
    }
    for (const auto& [sequence, change] : changes_) {
      KAM_RETURN_IF_ERROR(
          batch_->Put(kChangesCf, EncodeUint64(sequence), change.SerializeAsString()));
    }
    if (!changes_.empty()) {
      KAM_RETURN_IF_ERROR(
          batch_->Put(kMetaCf, kSequenceKey, EncodeUint64(sequence_)));
    }
    return absl::OkStatus();
  }

  AlertsEngine* engine() { return engine_; }
  // The last change sequence this transaction handed out, and whether it published any.
  uint64_t last_sequence() const { return sequence_; }
  bool published() const { return sequence_ != first_sequence_; }

 private:
  AlertsEngine* engine_;
  StagedBatch* batch_;
  std::vector<OutboundEvent>* events_;
  const uint64_t first_sequence_;
  uint64_t sequence_;
  std::map<std::string, AlertAccountState> accounts_;
  std::map<std::string, AlertManagerState> managers_;
  std::map<int32_t, int64_t> clocks_;
  std::map<std::string, Alert> latest_;                      // staged, by fingerprint
  std::map<std::string, Alert> staged_alerts_;               // staged, by alert id
  std::map<std::string, std::optional<Alert>> latest_read_;  // read from the store
  std::vector<std::pair<uint64_t, kam::v1::AlertChange>> changes_;
  std::map<int32_t, int64_t> scanned_upto_;
  std::map<std::pair<int, std::string>, std::string> fingerprints_;
  uint64_t parked_ = 0;
};

std::vector<std::string> AlertsEngine::ColumnFamilies() {
  return {kAccountsCf, kManagersCf, kAlertsCf, kLatestCf,
          kChangesCf,  kTimersCf,   kParkedCf, kClockCf};
}

absl::StatusOr<std::unique_ptr<AlertsEngine>> AlertsEngine::Open(Store* store, Outbox* outbox,
                                                                 EngineOptions options) {
  KAM_ASSIGN_OR_RETURN(PageTokens tokens, PageTokens::ForStore(store));
  if (!options.wall_clock) options.wall_clock = [] { return MillisFromTimestamp(NowTimestamp()); };
  std::unique_ptr<AlertsEngine> engine(
      new AlertsEngine(store, outbox, std::move(options), std::move(tokens)));
  KAM_ASSIGN_OR_RETURN(auto sequence, store->Get(kMetaCf, kSequenceKey));
  engine->committed_sequence_ = sequence ? DecodeUint64(*sequence) : 0;
  return engine;
}

namespace {

// ---- the rules applied to state, inside one transaction ----

absl::Status EvaluateSatisfaction(AlertsEngine::Tx& tx, const AlertAccountState& account,
                                  const RuleConfig& config, int64_t at) {
  const std::string& id = account.account_id();
  KAM_ASSIGN_OR_RETURN(auto falling,
                       tx.Latest(tx.FingerprintFor(kam::v1::ALERT_RULE_SATISFACTION_FALLING, id)));
  KAM_RETURN_IF_ERROR(
      tx.Transition(kam::v1::ALERT_RULE_SATISFACTION_FALLING, id, id, account.owner_manager_id(),
                    SatisfactionFalling(account, config, falling && IsOpen(*falling)), at));
  KAM_ASSIGN_OR_RETURN(auto low,
                       tx.Latest(tx.FingerprintFor(kam::v1::ALERT_RULE_SATISFACTION_LOW, id)));
  return tx.Transition(kam::v1::ALERT_RULE_SATISFACTION_LOW, id, id, account.owner_manager_id(),
                       SatisfactionLow(account, config, low && IsOpen(*low)), at);
}

absl::Status EvaluateNoContact(AlertsEngine::Tx& tx, int32_t p, const AlertAccountState& account,
                               const RuleConfig& config, int64_t clock) {
  Desired desired = NoContact(account, clock, config);
  KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_NO_CONTACT, account.account_id(),
                                    account.account_id(), account.owner_manager_id(), desired,
                                    clock));
  bool watched = account.known() && !account.closed() &&
                 (account.key_account() || account.tier() == kam::v1::TIER_A);
  int64_t since = account.last_contact_millis() > 0 ? account.last_contact_millis()
                                                    : account.first_seen_millis();
  if (!desired.open && watched && since > 0) {
    return tx.Schedule({.partition = p,
                        .due_millis = since + config.no_contact_millis + 1,
                        .kind = TimerKind::kNoContactDue,
                        .account_id = account.account_id()});
  }
  return absl::OkStatus();
}

}  // namespace
namespace {

absl::Status FireDueTimers(AlertsEngine::Tx& tx, int32_t p, int64_t upto,
                           const std::string* only_account, const EngineOptions& options);
absl::Status OnInteraction(AlertsEngine::Tx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                           const ConsumedRecord& record, const EngineOptions& options);

absl::Status CloseAccountAlerts(AlertsEngine::Tx& tx, AlertAccountState* account, int64_t at) {
  const std::string& id = account->account_id();
  const std::string& owner = account->owner_manager_id();
  for (auto rule : {kam::v1::ALERT_RULE_SATISFACTION_FALLING, kam::v1::ALERT_RULE_SATISFACTION_LOW,
                    kam::v1::ALERT_RULE_NO_CONTACT}) {
    KAM_RETURN_IF_ERROR(tx.Transition(rule, id, id, owner, Desired{}, at));
  }
  for (const auto& open : account->open_requests()) {
    KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                      id + "/" + open.interaction_id(), id, owner, Desired{}, at));
  }
  account->clear_open_requests();
  return absl::OkStatus();
}

absl::Status OnAccountEvent(AlertsEngine::Tx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options) {
  const kam::v1::Account* account = nullptr;
  switch (envelope.payload_case()) {
    case kam::v1::EventEnvelope::kAccountCreated:
      account = &envelope.account_created().account();
      break;
    case kam::v1::EventEnvelope::kAccountUpdated:
      account = &envelope.account_updated().account();
      break;
    case kam::v1::EventEnvelope::kAccountClosed:
      account = &envelope.account_closed().account();
      break;
    case kam::v1::EventEnvelope::kAccountAssigned:
      account = &envelope.account_assigned().account();
      break;
    default:
      return absl::OkStatus();
  }
  if (account->id().empty() || account->id() != record.key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key: \"", record.key, "\" does not match account id \"", account->id(), "\""));
  }
  // Account events do not move the clock: it follows the interactions (the activity stream), so a
  // backfill of old interactions for a just-created account is judged on its own time.
  const int64_t at = MillisFromTimestamp(envelope.time());
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, account->id()));
  const bool was_known = state->known();
  state->set_known(true);
  state->set_name(account->name());
  state->set_owner_manager_id(account->owner_manager_id());
  state->set_tier(account->tier());
  state->set_key_account(account->key_account());
  state->set_industry(account->industry());
  state->set_closed(account->lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED);
  if (state->first_seen_millis() == 0) state->set_first_seen_millis(at);
  const RuleConfig& config = options.rules.For(state->industry());
  KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
  if (state->closed()) {
    KAM_RETURN_IF_ERROR(CloseAccountAlerts(tx, state, clock));
  } else {
    KAM_RETURN_IF_ERROR(EvaluateNoContact(tx, p, *state, config, clock));
  }
  if (!was_known) {
    // Interactions that arrived before their account: apply them now, in event-time order.
    std::vector<std::pair<int64_t, kam::internal::v1::ParkedRecord>> held;
    std::vector<std::string> held_keys;
    const std::string prefix = ParkedPrefix(p, account->id());
    {
      auto it = tx.NewIterator(kParkedCf);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        kam::internal::v1::ParkedRecord parked_record;
        if (!parked_record.ParseFromArray(it->value().data(),
                                          static_cast<int>(it->value().size()))) {
          return absl::DataLossError("parked record does not parse");
        }
        held.emplace_back(parked_record.occur_millis(), parked_record);
        held_keys.push_back(it->key().ToString());
      }
      KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan parked"));
    }
    for (const auto& key : held_keys) KAM_RETURN_IF_ERROR(tx.Delete(kParkedCf, key));
    std::stable_sort(held.begin(), held.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [when, parked_record] : held) {
      kam::v1::EventEnvelope parked_envelope;
      parked_envelope.ParseFromString(parked_record.value());
      ConsumedRecord original{parked_record.topic(),  parked_record.partition(),
                              parked_record.offset(), parked_record.key(),
                              parked_record.value(),  -1};
      KAM_RETURN_IF_ERROR(OnInteraction(tx, p, parked_envelope, original, options));
    }
  }
  // Timers are not run here: account events carry the accounts service's time, not the activity
  // stream's, and firing on them would make the alert history depend on arrival order.
  return absl::OkStatus();
}

absl::Status OnManagerEvent(AlertsEngine::Tx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options) {
  std::string id;
  if (envelope.has_manager_load_changed()) {
    id = envelope.manager_load_changed().load().manager_id();
  } else if (envelope.has_manager_created()) {
    id = envelope.manager_created().manager().id();
  } else if (envelope.has_manager_updated()) {
    id = envelope.manager_updated().manager().id();
  } else {
    return absl::OkStatus();  // AccountAssigned copies: the load snapshot that follows is enough
  }
  if (id.empty() || id != record.key) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: \"", record.key, "\" does not match manager id \"", id, "\""));
  }
  const int64_t at = MillisFromTimestamp(envelope.time());
  KAM_ASSIGN_OR_RETURN(AlertManagerState * state, tx.Manager(p, id));
  if (envelope.has_manager_load_changed()) {
    const auto& load = envelope.manager_load_changed().load();
    state->set_name(load.manager_name());
    state->set_load(load.load());
    state->set_capacity(load.capacity());
    state->set_account_count(load.account_count());
    state->clear_top_accounts();
    for (int i = 0; i < load.accounts_size() && i < 3; ++i) {
      state->add_top_accounts(
          absl::StrCat(load.accounts(i).account_name(), " (", load.accounts(i).weight(), ")"));
    }
  } else {
    const auto& manager = envelope.has_manager_created() ? envelope.manager_created().manager()
                                                         : envelope.manager_updated().manager();
    state->set_name(manager.name());
    state->set_industry(manager.industry_focus());
    if (manager.effective_capacity() > 0) state->set_capacity(manager.effective_capacity());
  }
  KAM_ASSIGN_OR_RETURN(auto current,
                       tx.Latest(tx.FingerprintFor(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, id)));
  return tx.Transition(
      kam::v1::ALERT_RULE_MANAGER_OVERLOADED, id, "", id,
      ManagerOverloaded(*state, options.rules.For(state->industry()), current && IsOpen(*current)),
      at);
}

absl::Status OnInteraction(AlertsEngine::Tx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                           const ConsumedRecord& record, const EngineOptions& options) {
  if (!envelope.has_interaction_recorded()) return absl::OkStatus();
  const kam::v1::Interaction& interaction = envelope.interaction_recorded().interaction();
  if (interaction.account_id().empty() || interaction.account_id() != record.key) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: \"", record.key, "\" does not match the interaction's account"));
  }
  const int64_t at = MillisFromTimestamp(interaction.occur_time());
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, interaction.account_id()));
  if (!state->known()) {
    // Its account event may still be on its way on kam.accounts.v1: hold it back for a while.
    kam::internal::v1::ParkedRecord held;
    held.set_topic(record.topic);
    held.set_partition(record.partition);
    held.set_offset(record.offset);
    held.set_key(record.key);
    held.set_value(record.value);
    held.set_occur_millis(at);
    held.set_parked_wall_millis(options.wall_clock());
    const std::string key = ParkedPrefix(p, interaction.account_id()) +
                            EncodeUint64(static_cast<uint64_t>(record.offset));
    tx.CountParked();
    return tx.Put(kParkedCf, key, held.SerializeAsString());
  }
  // Event-time order: whatever fell due before this record happened fires first, at its due
  // time -- the account's own timers up to the record's time, the others' up to the record's
  // time less the allowed lateness (records of another account may still be on their way).
  if (options.allowed_lateness_millis > 0) {
    KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, at, &interaction.account_id(), options));
  }
  KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, at - options.allowed_lateness_millis, nullptr, options));
  KAM_RETURN_IF_ERROR(tx.Advance(p, at));
  const RuleConfig& config = options.rules.For(state->industry());
  const std::string& account_id = state->account_id();
  auto add_signal = [&](double score, bool complaint, bool detractor) {
    for (const auto& signal : state->signals()) {
      if (signal.interaction_id() == interaction.id()) return;  // the same answer twice
    }
    kam::internal::v1::SatisfactionSignal signal;
    signal.set_occur_millis(at);
    signal.set_interaction_id(interaction.id());
    signal.set_score(score);
    signal.set_complaint(complaint);
    signal.set_detractor(detractor);
    auto* signals = state->mutable_signals();
    int index = static_cast<int>(
        std::upper_bound(signals->begin(), signals->end(), at,
                         [](int64_t t, const auto& s) { return t < s.occur_millis(); }) -
        signals->begin());
    signals->Add(std::move(signal));
    for (int i = signals->size() - 1; i > index; --i) signals->SwapElements(i, i - 1);
    if (signals->size() > config.max_signals)
      signals->DeleteSubrange(0, signals->size() - config.max_signals);
  };
  auto open_request = [&]() -> absl::Status {
    for (const auto& open : state->open_requests()) {
      if (open.interaction_id() == interaction.id()) return absl::OkStatus();
    }
    auto* open = state->add_open_requests();
    open->set_interaction_id(interaction.id());
    open->set_open_millis(at);
    return tx.Schedule({.partition = p,
                        .due_millis = at + config.response_benchmark_millis + 1,
                        .kind = TimerKind::kResponseDue,
                        .account_id = account_id,
                        .interaction_id = interaction.id()});
  };
  switch (interaction.type()) {
    case kam::v1::INTERACTION_TYPE_SURVEY: {
      const auto& survey = interaction.survey();
      add_signal(NormalisedScore(survey), false, IsDetractor(survey));
      KAM_RETURN_IF_ERROR(EvaluateSatisfaction(tx, *state, config, at));
      break;
    }
    case kam::v1::INTERACTION_TYPE_COMPLAINT:
      add_signal(0, true, false);
      KAM_RETURN_IF_ERROR(open_request());
      KAM_RETURN_IF_ERROR(EvaluateSatisfaction(tx, *state, config, at));
      break;
    case kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST:
      KAM_RETURN_IF_ERROR(open_request());
      break;
    case kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED: {
      auto* open = state->mutable_open_requests();
      for (int i = 0; i < open->size(); ++i) {
        if (open->Get(i).interaction_id() != interaction.resolves_interaction_id()) continue;
        open->DeleteSubrange(i, 1);
        break;
      }
      KAM_RETURN_IF_ERROR(tx.Transition(kam::v1::ALERT_RULE_RESPONSE_OVERDUE,
                                        account_id + "/" + interaction.resolves_interaction_id(),
                                        account_id, state->owner_manager_id(), Desired{}, at));
      break;
    }
    default:
      break;
  }
  if (IsContact(interaction.type()) && at > state->last_contact_millis()) {
    state->set_last_contact_millis(at);
    KAM_RETURN_IF_ERROR(EvaluateNoContact(tx, p, *state, config, at));
  }
  return absl::OkStatus();
}

// Fires `timer` as of its due time.
absl::Status FireTimer(AlertsEngine::Tx& tx, const TimerKey& timer, const EngineOptions& options) {
  const int32_t p = timer.partition;
  const int64_t now = timer.due_millis;
  KAM_ASSIGN_OR_RETURN(AlertAccountState * state, tx.Account(p, timer.account_id));
  const RuleConfig& config = options.rules.For(state->industry());
  if (timer.kind == TimerKind::kNoContactDue) {
    return EvaluateNoContact(tx, p, *state, config, now);
  }
  const kam::internal::v1::OpenRequestTimer* open = nullptr;
  for (const auto& request : state->open_requests()) {
    if (request.interaction_id() == timer.interaction_id) open = &request;
  }
  if (open == nullptr) return absl::OkStatus();  // resolved before it fell due
  KAM_RETURN_IF_ERROR(tx.Transition(
      kam::v1::ALERT_RULE_RESPONSE_OVERDUE, timer.account_id + "/" + timer.interaction_id,
      timer.account_id, state->owner_manager_id(),
      ResponseOverdue(timer.account_id, timer.interaction_id, open->open_millis(), true, now,
                      config),
      now));
  const int64_t critical_at = open->open_millis() + 2 * config.response_benchmark_millis + 1;
  if (now < critical_at) {
    TimerKey escalation = timer;
    escalation.due_millis = critical_at;
    return tx.Schedule(escalation);
  }
  return absl::OkStatus();
}

absl::Status FireDueTimers(AlertsEngine::Tx& tx, int32_t p, int64_t upto,
                           const std::string* only_account, const EngineOptions& options) {
  auto scanned = tx.scanned_upto().find(p);
  if (only_account == nullptr && scanned != tx.scanned_upto().end() && upto <= scanned->second) {
    return absl::OkStatus();
  }
  const std::string prefix = TimerKey::PartitionPrefix(p);
  // One at a time, earliest first: a timer may schedule another (an escalation) that falls due
  // before the ones already found.
  while (true) {
    std::optional<TimerKey> next;
    std::string next_key;
    {
      auto it = tx.NewIterator(kTimersCf);
      for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        std::optional<TimerKey> timer = TimerKey::Decode(it->key().ToStringView());
        if (!timer) return absl::DataLossError("timer key does not decode");
        if (timer->due_millis > upto) break;
        if (only_account != nullptr && timer->account_id != *only_account) continue;
        next = std::move(timer);
        next_key = it->key().ToString();
        break;
      }
      KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan timers"));
    }
    if (!next) break;
    KAM_RETURN_IF_ERROR(tx.Delete(kTimersCf, next_key));
    KAM_RETURN_IF_ERROR(FireTimer(tx, *next, options));
  }
  if (only_account == nullptr) tx.scanned_upto()[p] = upto;
  return absl::OkStatus();
}

}  // namespace

AlertsEngine::AlertsEngine(Store* store, Outbox* outbox, EngineOptions options, PageTokens tokens)
    : store_(store), outbox_(outbox), options_(std::move(options)), tokens_(std::move(tokens)) {}

AlertsEngine::~AlertsEngine() = default;

// A unit of work: the engine's lock and one Tx, from Begin to commit or drop.
class AlertsEngine::Unit : public UnitOfWork {
 public:
  Unit(AlertsEngine* engine, StagedBatch* batch, std::vector<OutboundEvent>* events)
      : lock_(engine->mutex_), engine_(engine), tx_(engine, batch, events) {}

  absl::Status Apply(const ConsumedRecord& record) override {
    return engine_->ApplyRecord(tx_, record);
  }
  absl::Status Punctuate(int64_t wall_millis) override {
    return engine_->PunctuateTx(tx_, wall_millis);
  }
  absl::Status Seal() override { return tx_.Flush(); }
  void Committed() override { engine_->Committed(tx_); }

  Tx& tx() { return tx_; }

 private:
  std::unique_lock<std::mutex> lock_;
  AlertsEngine* engine_;
  Tx tx_;
};

std::unique_ptr<UnitOfWork> AlertsEngine::Begin(StagedBatch* batch,
                                                std::vector<OutboundEvent>* events) {
  return std::make_unique<Unit>(this, batch, events);
}

void AlertsEngine::TaskRunning(int32_t task) {
  // A running task's clock follows the wall clock once its partition has been idle a while.
  last_activity_wall_[task] = options_.wall_clock();
}

void AlertsEngine::TaskClosed(int32_t task) {
  // Another instance owns the partition now: its clock and timers are no longer ours to move.
  last_activity_wall_.erase(task);
}

absl::Status AlertsEngine::ApplyRecord(Tx& tx, const ConsumedRecord& record) {
  kam::v1::EventEnvelope envelope;
  if (!envelope.ParseFromString(record.value)) {
    return absl::InvalidArgumentError("value: not a kam.v1.EventEnvelope");
  }
  if (envelope.payload_case() == kam::v1::EventEnvelope::PAYLOAD_NOT_SET) {
    return absl::InvalidArgumentError("value: envelope without payload");
  }
  if (record.topic == kafka_topics::kAccounts) {
    return OnAccountEvent(tx, record.partition, envelope, record, options_);
  }
  if (record.topic == kafka_topics::kManagers) {
    return OnManagerEvent(tx, record.partition, envelope, record, options_);
  }
  if (record.topic == kafka_topics::kInteractions) {
    // Only the activity stream counts against idleness: the clock follows interactions.
    last_activity_wall_[record.partition] = options_.wall_clock();
    return OnInteraction(tx, record.partition, envelope, record, options_);
  }
  return absl::OkStatus();
}

absl::Status AlertsEngine::PunctuateTx(Tx& tx, int64_t wall_millis) {
  for (const auto& [p, last] : last_activity_wall_) {
    if (wall_millis - last < options_.idle_millis) continue;
    KAM_ASSIGN_OR_RETURN(int64_t clock, tx.Clock(p));
    if (wall_millis <= clock) continue;
    // Idle: nothing is on its way, so everything due up to now fires.
    KAM_RETURN_IF_ERROR(FireDueTimers(tx, p, wall_millis, nullptr, options_));
    KAM_RETURN_IF_ERROR(tx.Advance(p, wall_millis));
  }
  // Held-back interactions whose account never showed up go to the dead-letter topic.
  // Only the running tasks' ones: another instance expires the rest.
  std::vector<std::string> expired;
  for (const auto& [p, last] : last_activity_wall_) {
    const std::string prefix = Partition(p);
    auto it = tx.NewIterator(kParkedCf);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      kam::internal::v1::ParkedRecord held;
      if (!held.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("parked record does not parse");
      }
      if (wall_millis - held.parked_wall_millis() < options_.unknown_account_grace_millis) {
        continue;
      }
      ConsumedRecord original{held.topic(), held.partition(), held.offset(),
                              held.key(),   held.value(),     -1};
      tx.Emit(MakeDeadLetter(
          original,
          absl::StrCat("account \"", held.key(),
                       "\" unknown to kam-alerts: no event on kam.accounts.v1 within ",
                       options_.unknown_account_grace_millis / 1000, " s"),
          kSource));
      expired.push_back(it->key().ToString());
      log::Warn("interaction for unknown account dead-lettered",
                {{"account_id", held.key()}, {"offset", std::to_string(held.offset())}});
    }
    KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan parked"));
  }
  for (const auto& key : expired) KAM_RETURN_IF_ERROR(tx.Delete(kParkedCf, key));
  return absl::OkStatus();
}

void AlertsEngine::Committed(const Tx& tx) {
  committed_sequence_ = tx.last_sequence();
  parked_total_ += tx.parked();
  if (tx.published()) NotifyWatchers();
}

void AlertsEngine::NotifyWatchers() {
  std::lock_guard<std::mutex> lock(watchers_mutex_);
  for (const auto& [id, notify] : watchers_) notify();
}

int AlertsEngine::Subscribe(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(watchers_mutex_);
  watchers_[++next_watcher_] = std::move(notify);
  return next_watcher_;
}

void AlertsEngine::Unsubscribe(int id) {
  std::lock_guard<std::mutex> lock(watchers_mutex_);
  watchers_.erase(id);
}

uint64_t AlertsEngine::changes_total() const { return committed_sequence_; }

// ---- API ----

absl::StatusOr<kam::v1::ListAlertsResponse> AlertsEngine::ListAlerts(
    const kam::v1::ListAlertsRequest& request) const {
  KAM_ASSIGN_OR_RETURN(int page_size, ResolvePageSize(request.page_size()));
  if (!kam::v1::AlertState_IsValid(request.state()))
    return absl::InvalidArgumentError("state: unknown value");
  if (!kam::v1::AlertRule_IsValid(request.rule()))
    return absl::InvalidArgumentError("rule: unknown value");
  if (!kam::v1::Severity_IsValid(request.min_severity())) {
    return absl::InvalidArgumentError("min_severity: unknown value");
  }
  const std::string filter =
      absl::StrCat("alerts|", request.state(), "|", request.rule(), "|", request.min_severity(),
                   "|", request.account_id(), "|", request.manager_id());
  std::string after;
  if (!request.page_token().empty()) {
    KAM_ASSIGN_OR_RETURN(after, tokens_.Parse(request.page_token(), filter));
  }
  std::vector<Alert> alerts;
  auto it = store_->NewIterator(kAlertsCf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Alert alert;
    if (!alert.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("alert record does not parse");
    }
    if (request.state() != 0 && alert.state() != request.state()) continue;
    if (request.rule() != 0 && alert.rule() != request.rule()) continue;
    if (alert.severity() < request.min_severity()) continue;
    if (!request.account_id().empty() && alert.account_id() != request.account_id()) continue;
    if (!request.manager_id().empty() && alert.manager_id() != request.manager_id()) continue;
    alerts.push_back(std::move(alert));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan alerts"));
  // Newest first; the position (start time, id) keeps pages stable while alerts come and go.
  auto position = [](const Alert& alert) {
    return EncodeUint64(~static_cast<uint64_t>(MillisFromTimestamp(alert.start_time()))) +
           alert.id();
  };
  std::sort(alerts.begin(), alerts.end(),
            [&](const Alert& a, const Alert& b) { return position(a) < position(b); });
  kam::v1::ListAlertsResponse response;
  for (auto& alert : alerts) {
    if (!after.empty() && position(alert) <= after) continue;
    if (response.alerts_size() == page_size) {
      response.set_next_page_token(tokens_.Issue(filter, position(*response.alerts().rbegin())));
      break;
    }
    *response.add_alerts() = std::move(alert);
  }
  return response;
}

absl::StatusOr<Alert> AlertsEngine::GetAlert(const kam::v1::GetAlertRequest& request) const {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  KAM_ASSIGN_OR_RETURN(auto alert, LoadMessage<Alert>(*store_, kAlertsCf, request.id()));
  if (!alert) return absl::NotFoundError(absl::StrCat("id: no alert \"", request.id(), "\""));
  return *alert;
}

absl::StatusOr<Alert> AlertsEngine::AcknowledgeAlert(
    const kam::v1::AcknowledgeAlertRequest& request) {
  if (request.id().empty()) return absl::InvalidArgumentError("id: required");
  if (request.acknowledged_by().empty()) {
    return absl::InvalidArgumentError("acknowledged_by: required; say who takes care of it");
  }
  if (request.acknowledged_by().size() > 200) {
    return absl::InvalidArgumentError("acknowledged_by: at most 200 characters");
  }
  StagedBatch batch(store_);
  std::vector<OutboundEvent> events;
  Unit unit(this, &batch, &events);  // holds mutex_ until the acknowledgement is durable
  KAM_ASSIGN_OR_RETURN(auto alert, LoadMessage<Alert>(*store_, kAlertsCf, request.id()));
  if (!alert) return absl::NotFoundError(absl::StrCat("id: no alert \"", request.id(), "\""));
  if (!request.etag().empty() && request.etag() != alert->etag()) {
    return absl::AbortedError(
        absl::StrCat("etag: the alert changed since it was read (etag ", alert->etag(), ")"));
  }
  if (alert->state() == kam::v1::ALERT_STATE_RESOLVED) {
    return absl::FailedPreconditionError(
        absl::StrCat("id: alert \"", request.id(), "\" is resolved"));
  }
  if (alert->state() == kam::v1::ALERT_STATE_ACKNOWLEDGED) return *alert;
  // Only the latest instance of a fingerprint can be open.
  Tx& tx = unit.tx();
  Alert acknowledged = *alert;
  acknowledged.set_state(kam::v1::ALERT_STATE_ACKNOWLEDGED);
  acknowledged.set_acknowledged_by(request.acknowledged_by());
  *acknowledged.mutable_acknowledge_time() = TimestampFromMillis(options_.wall_clock());
  *acknowledged.mutable_update_time() = acknowledged.acknowledge_time();
  acknowledged.set_etag(
      std::to_string(std::stoll(acknowledged.etag().empty() ? "0" : acknowledged.etag()) + 1));
  tx.StageAlert(acknowledged);
  tx.Publish(kam::v1::ALERT_CHANGE_KIND_ACKNOWLEDGED, acknowledged);
  KAM_RETURN_IF_ERROR(unit.Seal());
  KAM_RETURN_IF_ERROR(outbox_->Commit(batch.batch(), std::move(events)));
  unit.Committed();
  return acknowledged;
}

absl::StatusOr<std::vector<kam::v1::AlertChange>> AlertsEngine::ChangesAfter(
    const std::string& resume_token, size_t limit) const {
  uint64_t after = 0;
  if (!resume_token.empty() && !absl::SimpleAtoi(resume_token, &after)) {
    return absl::InvalidArgumentError("resume_token: not a token this service issued");
  }
  std::vector<kam::v1::AlertChange> changes;
  auto it = store_->NewIterator(kChangesCf);
  for (it->Seek(EncodeUint64(after + 1)); it->Valid() && changes.size() < limit; it->Next()) {
    kam::v1::AlertChange change;
    if (!change.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("alert change does not parse");
    }
    changes.push_back(std::move(change));
  }
  KAM_RETURN_IF_ERROR(FromRocks(it->status(), "scan changes"));
  return changes;
}

std::string AlertsEngine::LatestToken() const {
  auto it = store_->NewIterator(kChangesCf);
  it->SeekToLast();
  return it->Valid() ? std::to_string(DecodeUint64(it->key().ToStringView())) : "0";
}

}  // namespace kam::alerts
