// What the consumers take from Kafka: any record on any topic kam-alerts reads (accounts,
// managers, interactions, its commands, the portfolio facts) and on kam-interactions' account
// replica, applied the way the consumer applies it (RecordApplier: state, offset and outbox in one
// write). The envelope decoding and everything behind it must apply the record or refuse it as an
// input error (dead-lettered, the apply still succeeds); any other outcome -- a crash, undefined
// behaviour, a storage error from a healthy disk -- is a finding. Timers are punctuated between
// records, so later inputs meet open alerts, held-back interactions and due timers.
//
// An input is a sequence of steps (fuzz_store.h) applied to empty stores: a record step's body
// is [partition][key length] key value, on one of kam-alerts' five input topics or on
// kam-interactions' account replica; a punctuate step's body is 4 bytes, seconds after the start
// on the wall clock (the machine's clock is not input, so it stays sane).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "common/kafka_topics.h"
#include "common/outbox.h"
#include "common/record_applier.h"
#include "common/store.h"
#include "common/task_ownership.h"
#include "common/time_util.h"
#include "fuzz/fuzz_store.h"
#include "kam/internal/v1/commands.pb.h"
#include "kam/internal/v1/storage.pb.h"
#include "kam/v1/events.pb.h"
#include "services/alerts/alerts_engine.h"
#include "services/interactions/interactions_book.h"

namespace {

constexpr int64_t kStart = 1'790'000'000'000;
constexpr int kAlertTopics = 5;
constexpr uint8_t kReplicaKind = 5;
constexpr uint8_t kPunctuateKind = 6;
constexpr uint8_t kKinds = 7;

struct Consumers {
  // Both stores are emptied first.
  Consumers(kam::fuzz::MemoryStore* alerts_store, kam::fuzz::MemoryStore* replica_store) {
    alerts_store->Wipe();
    replica_store->Wipe();
    kam::alerts::EngineOptions options;
    options.idle_millis = 1000;
    options.wall_clock = [] { return kStart; };
    topics[0] = kam::kafka_topics::kAccounts;
    topics[1] = kam::kafka_topics::kManagers;
    topics[2] = kam::kafka_topics::kInteractions;
    topics[3] = options.commands_topic;
    topics[4] = options.portfolio_topic;

    alerts_outbox = kam::fuzz::HarnessMust(kam::Outbox::Open(alerts_store->get()));
    engine = kam::fuzz::HarnessMust(
        kam::alerts::AlertsEngine::Open(alerts_store->get(), alerts_outbox.get(), options));
    for (int32_t task = 0; task < 3; ++task) engine->TaskRunning(task);
    alerts = std::make_unique<kam::RecordApplier>(alerts_store->get(), alerts_outbox.get(),
                                                  engine.get(), "kam-alerts");

    replica_outbox = kam::fuzz::HarnessMust(kam::Outbox::Open(replica_store->get()));
    committer = std::make_unique<kam::OutboxCommitter>(replica_store->get(), replica_outbox.get());
    book = kam::fuzz::HarnessMust(kam::interactions::InteractionsBook::Open(
        replica_store->get(), committer.get(), &ownership, {}));
    replica = std::make_unique<kam::RecordApplier>(replica_store->get(), replica_outbox.get(),
                                                   book->account_replica(), "kam-interactions");
  }

  std::string topics[kAlertTopics];
  std::unique_ptr<kam::Outbox> alerts_outbox;
  std::unique_ptr<kam::alerts::AlertsEngine> engine;
  std::unique_ptr<kam::RecordApplier> alerts;
  std::unique_ptr<kam::Outbox> replica_outbox;
  std::unique_ptr<kam::OutboxCommitter> committer;
  kam::SingleTaskOwnership ownership;
  std::unique_ptr<kam::interactions::InteractionsBook> book;
  std::unique_ptr<kam::RecordApplier> replica;
  int64_t offset = 0;
};

std::string Record(uint8_t kind, uint8_t partition, const std::string& key,
                   const std::string& value) {
  return kam::fuzz::EncodeStep(
      kind, std::string{static_cast<char>(partition), static_cast<char>(key.size())} + key + value);
}

std::string Seeds(std::string* name, int which) {
  kam::v1::EventEnvelope envelope;
  *envelope.mutable_time() = kam::TimestampFromMillis(kStart);
  envelope.set_producer_sequence(7);
  switch (which) {
    case 0: {
      *name = "account_created";
      auto* account = envelope.mutable_account_created()->mutable_account();
      account->set_id("acc_1");
      account->set_name("Acme");
      account->set_owner_manager_id("mgr_1");
      account->set_key_account(true);
      account->set_tier(kam::v1::TIER_A);
      account->set_industry(kam::v1::INDUSTRY_SERVICES);
      return Record(0, 0, "acc_1", envelope.SerializeAsString());
    }
    case 1: {
      *name = "manager_created";
      auto* manager = envelope.mutable_manager_created()->mutable_manager();
      manager->set_id("mgr_1");
      manager->set_name("Mia");
      manager->set_capacity(8);
      manager->set_active(true);
      return Record(1, 0, "mgr_1", envelope.SerializeAsString());
    }
    case 2: {
      *name = "survey";
      auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
      interaction->set_id("int_1");
      interaction->set_account_id("acc_1");
      interaction->set_type(kam::v1::INTERACTION_TYPE_SURVEY);
      interaction->mutable_survey()->set_nps(3);
      *interaction->mutable_occur_time() = kam::TimestampFromMillis(kStart);
      return Record(2, 0, "acc_1", envelope.SerializeAsString());
    }
    case 3: {
      *name = "complaint";
      auto* interaction = envelope.mutable_interaction_recorded()->mutable_interaction();
      interaction->set_id("int_2");
      interaction->set_account_id("acc_1");
      interaction->set_type(kam::v1::INTERACTION_TYPE_COMPLAINT);
      *interaction->mutable_occur_time() = kam::TimestampFromMillis(kStart + 1000);
      return Record(2, 0, "acc_1", envelope.SerializeAsString());
    }
    case 4: {
      *name = "acknowledge";
      kam::internal::v1::AlertCommand command;
      command.set_command_id("cmd_1");
      command.set_wall_millis(kStart);
      command.mutable_acknowledge()->set_id("alt_1");
      command.mutable_acknowledge()->set_etag("1");
      return Record(3, 0, "alt_1", command.SerializeAsString());
    }
    case 5: {
      *name = "portfolio_fact";
      kam::internal::v1::PortfolioFact fact;
      fact.set_account_id("acc_1");
      fact.set_manager_id("mgr_1");
      fact.set_satisfaction_falling(true);
      fact.set_satisfaction_since_millis(kStart);
      return Record(4, 0, "mgr_1", fact.SerializeAsString());
    }
    case 6: {
      *name = "replica_account";
      auto* account = envelope.mutable_account_updated()->mutable_account();
      account->set_id("acc_1");
      account->set_owner_manager_id("mgr_1");
      return Record(kReplicaKind, 0, "acc_1", envelope.SerializeAsString());
    }
    default: {
      *name = "punctuate";
      const uint32_t forty_days = 40 * 24 * 3600;
      return kam::fuzz::EncodeStep(
          kPunctuateKind,
          std::string(reinterpret_cast<const char*>(&forty_days), sizeof(forty_days)));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::vector<std::pair<std::string, std::string>> seeds;
  std::string book;  // every step in turn: a manager, an account, answers, timers, commands
  for (int which : {1, 0, 6, 2, 3, 7, 4, 5}) {
    std::string name;
    std::string step = Seeds(&name, which);
    book += step;
    seeds.emplace_back(name, std::move(step));
  }
  seeds.emplace_back("book", book);
  kam::fuzz::WriteSeedsIfAsked(seeds);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static kam::fuzz::MemoryStore alerts_store(kam::alerts::AlertsEngine::ColumnFamilies());
  static kam::fuzz::MemoryStore replica_store(
      kam::interactions::InteractionsBook::ColumnFamilies());
  Consumers consumers(&alerts_store, &replica_store);
  for (const kam::fuzz::Step& step : kam::fuzz::Steps(data, size)) {
    const uint8_t kind = step.kind % kKinds;
    absl::Status applied;
    if (kind == kPunctuateKind) {
      uint32_t seconds = 0;
      std::memcpy(&seconds, step.body.data(), std::min(step.body.size(), sizeof(seconds)));
      applied = consumers.alerts->Punctuate(kStart + int64_t{seconds} * 1000);
    } else {
      if (step.body.size() < 2) continue;
      const size_t key_size =
          std::min<size_t>(static_cast<uint8_t>(step.body[1]) % 64, step.body.size() - 2);
      kam::ConsumedRecord record;
      record.partition = static_cast<uint8_t>(step.body[0]) % 3;
      record.offset = consumers.offset++;
      record.key = std::string(step.body.substr(2, key_size));
      record.value = std::string(step.body.substr(2 + key_size));
      record.timestamp_ms = kStart;
      if (kind == kReplicaKind) {
        record.topic = kam::kafka_topics::kAccounts;
        record.partition = 0;
        applied = consumers.replica->Apply(record);
      } else {
        record.topic = consumers.topics[kind];
        applied = consumers.alerts->Apply(record);
      }
    }
    // Input errors are dead-lettered inside Apply: anything that still comes out is a finding.
    if (!applied.ok()) {
      std::fprintf(stderr, "apply failed: %s\n", applied.ToString().c_str());
      std::abort();
    }
  }
  return 0;
}
