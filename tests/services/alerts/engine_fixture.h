#pragma once

// An AlertsEngine fed the way the consumer feeds it (RecordApplier: state, offsets and outbox in
// one batch), with helpers that build input events and read what the engine published. Shared by
// the engine's tests.

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/kafka_topics.h"
#include "common/record_applier.h"
#include "common/time_util.h"
#include "kam/internal/v1/commands.pb.h"
#include "nlohmann/json.hpp"
#include "services/alerts/alert_store.h"
#include "services/alerts/alerts_engine.h"
#include "tests/testing/temp_dir.h"

namespace kam::alerts {

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kStart = 1'790'000'000'000;  // event times of the test book

class AlertsEngineFixture : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(const std::string& db = "db") {
    applier_.reset();
    engine_.reset();
    outbox_.reset();
    store_.reset();
    auto store = Store::Open({.path = dir_.Sub(db)}, AlertsEngine::ColumnFamilies());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    outbox_ = std::move(*Outbox::Open(store_.get()));
    EngineOptions options;
    options.idle_millis = 1000;
    options.allowed_lateness_millis = allowed_lateness_;
    options.wall_clock = [] { return kStart; };
    if (configure_) configure_(options);
    engine_ = std::move(*AlertsEngine::Open(store_.get(), outbox_.get(), options));
    // One instance owning every partition, as the consumer starts its tasks.
    for (int32_t task = 0; task < 3; ++task) engine_->TaskRunning(task);
    applier_ =
        std::make_unique<RecordApplier>(store_.get(), outbox_.get(), engine_.get(), "kam-alerts");
  }

  void Feed(const std::string& topic, const std::string& key,
            const kam::v1::EventEnvelope& envelope, int32_t partition = 0) {
    if (recording_ != nullptr) {
      recording_->push_back(
          {topic, partition, offsets_[topic]++, key, envelope.SerializeAsString(), 0});
      return;
    }
    ASSERT_TRUE(applier_
                    ->Apply({topic, partition, offsets_[topic]++, key, envelope.SerializeAsString(),
                             0, traceparent_})
                    .ok());
  }

  // An API write as the commands topic carries it to task `partition`; returns the result the
  // task stored for its caller.
  kam::internal::v1::AlertCommandResult Command(kam::internal::v1::AlertCommand command,
                                                int32_t partition = 0) {
    static int next_command = 0;
    command.set_command_id("cmd-" + std::to_string(++next_command));
    const std::string topic = EngineOptions().commands_topic;
    EXPECT_TRUE(applier_
                    ->Apply({topic, partition, offsets_[topic]++, command.command_id(),
                             command.SerializeAsString(), 0})
                    .ok());
    auto it = store_->NewIterator(kCommandResultsCf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      kam::internal::v1::AlertCommandResult result;
      if (result.ParseFromString(it->value().ToString()) &&
          result.command_id() == command.command_id()) {
        return result;
      }
    }
    ADD_FAILURE() << "no result for " << command.command_id();
    return {};
  }

  // An account event carrying `account` as kam-accounts publishes it.
  void AccountEvent(const kam::v1::Account& account, int64_t at) {
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = TimestampFromMillis(at);
    *envelope.mutable_account_updated()->mutable_account() = account;
    Feed(kafka_topics::kAccounts, account.id(), envelope);
  }

  void Account(const std::string& id, int64_t at, bool key_account = false,
               kam::v1::Tier tier = kam::v1::TIER_B, bool closed = false) {
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = TimestampFromMillis(at);
    auto* account = envelope.mutable_account_created()->mutable_account();
    account->set_id(id);
    account->set_name("Name of " + id);
    account->set_owner_manager_id("mgr_1");
    account->set_key_account(key_account);
    account->set_tier(tier);
    account->set_industry(kam::v1::INDUSTRY_SERVICES);
    if (closed) account->set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
    Feed(kafka_topics::kAccounts, id, envelope);
  }

  void Interaction(const std::string& account, const std::string& id, kam::v1::InteractionType type,
                   int64_t at, int nps = -1, const std::string& resolves = "") {
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = TimestampFromMillis(at);
    auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
    interaction->set_id(id);
    interaction->set_account_id(account);
    interaction->set_type(type);
    *interaction->mutable_occur_time() = TimestampFromMillis(at);
    if (nps >= 0) interaction->mutable_survey()->set_nps(nps);
    interaction->set_resolves_interaction_id(resolves);
    Feed(kafka_topics::kInteractions, account, envelope);
  }

  void Survey(const std::string& account, int week, int nps) {
    Interaction(account, account + "-s" + std::to_string(week), kam::v1::INTERACTION_TYPE_SURVEY,
                kStart + week * 7 * kDay, nps);
  }

  void Load(const std::string& manager, double load, double capacity, int accounts = 0,
            int64_t at = kStart) {
    kam::v1::EventEnvelope envelope;
    *envelope.mutable_time() = TimestampFromMillis(at);
    auto* snapshot = envelope.mutable_manager_load_changed()->mutable_load();
    snapshot->set_manager_id(manager);
    snapshot->set_manager_name("Jane");
    snapshot->set_load(load);
    snapshot->set_capacity(capacity);
    snapshot->set_account_count(accounts);
    Feed(kafka_topics::kManagers, manager, envelope);
  }

  // What the relay and the consumer do with the repartition topic: the portfolio facts waiting in
  // the outbox since the last call, fed back as input (one partition: the manager's).
  int PumpPortfolio() {
    auto rows = outbox_->ReadPending(pumped_sequence_, 100000);
    EXPECT_TRUE(rows.ok());
    int pumped = 0;
    for (const auto& row : *rows) {
      pumped_sequence_ = row.sequence();
      if (row.topic() != kafka_topics::kPortfolio) continue;
      EXPECT_TRUE(applier_
                      ->Apply({kafka_topics::kPortfolio, 0, offsets_[kafka_topics::kPortfolio]++,
                               row.key(), row.value(), 0})
                      .ok());
      ++pumped;
    }
    return pumped;
  }

  std::optional<kam::v1::Alert> Firing(kam::v1::AlertRule rule, const std::string& subject) {
    for (const auto& alert : Alerts()) {
      if (alert.rule() != rule) continue;
      if (alert.state() == kam::v1::ALERT_STATE_RESOLVED) continue;
      if (alert.account_id() == subject || alert.manager_id() == subject) return alert;
    }
    return std::nullopt;
  }

  static std::string Evidence(const kam::v1::Alert& alert, const std::string& name) {
    for (const auto& item : alert.evidence()) {
      if (item.name() == name) return item.value();
    }
    return "";
  }

  std::vector<kam::v1::Alert> Alerts(kam::v1::AlertState state = kam::v1::ALERT_STATE_UNSPECIFIED) {
    kam::v1::ListAlertsRequest request;
    request.set_state(state);
    auto response = engine_->ListAlerts(request);
    EXPECT_TRUE(response.ok());
    return {response->alerts().begin(), response->alerts().end()};
  }

  // The CloudEvents waiting in the outbox for kam.alerts.v1, parsed.
  std::vector<nlohmann::json> CloudEvents() {
    std::vector<nlohmann::json> events;
    auto rows = outbox_->ReadPending(0, 100000);
    for (const auto& row : *rows) {
      if (row.topic() == kafka_topics::kAlerts)
        events.push_back(nlohmann::json::parse(row.value()));
    }
    return events;
  }

  std::vector<std::string> DeadLetters() {
    std::vector<std::string> errors;
    auto rows = outbox_->ReadPending(0, 100000);
    for (const auto& row : *rows) {
      if (row.topic() != kafka_topics::kDeadLetter) continue;
      kam::v1::EventEnvelope envelope;
      envelope.ParseFromString(row.value());
      errors.push_back(envelope.dead_letter().error());
    }
    return errors;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<AlertsEngine> engine_;
  std::unique_ptr<RecordApplier> applier_;
  std::map<std::string, int64_t> offsets_;
  int64_t allowed_lateness_ = 0;
  // Applied to the engine's options by Open (damping, global-table lookups).
  std::function<void(EngineOptions&)> configure_;
  uint64_t pumped_sequence_ = 0;

  // Every alert's changes in order (kind, state, severity, times), by alert id: what a person
  // following the alerts sees, independent of how changes of different alerts interleave.
  std::map<std::string, std::vector<std::string>> Histories() {
    std::map<std::string, std::vector<std::string>> histories;
    for (const auto& [position, change] : StoredChanges()) {
      const auto& alert = change.alert();
      histories[alert.id()].push_back(absl::StrCat(
          kam::v1::AlertChangeKind_Name(change.kind()), " ",
          kam::v1::AlertState_Name(alert.state()), " ", kam::v1::Severity_Name(alert.severity()),
          " start=", MillisFromTimestamp(alert.start_time()),
          " update=", MillisFromTimestamp(alert.update_time())));
    }
    return histories;
  }
  // The change log as the tasks keep it: (task, sequence) -> change, in task then sequence order.
  std::vector<std::pair<std::pair<int32_t, uint64_t>, kam::v1::AlertChange>> StoredChanges() {
    std::vector<std::pair<std::pair<int32_t, uint64_t>, kam::v1::AlertChange>> changes;
    auto it = store_->NewIterator(kChangesCf);
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 12) continue;  // a task's last sequence
      kam::v1::AlertChange change;
      EXPECT_TRUE(change.ParseFromString(it->value().ToString()));
      changes.push_back({{PartitionOf(it->key().ToStringView()),
                          DecodeUint64(it->key().ToStringView().substr(4))},
                         std::move(change)});
    }
    return changes;
  }
  // When set, Feed records here instead of applying.
  std::vector<ConsumedRecord>* recording_ = nullptr;
  // The traceparent header of the records Feed applies ("" for none).
  std::string traceparent_;
};

}  // namespace kam::alerts
