// kam-interactions as three instances of one group on the real broker: any instance answers any
// call (forwarded to the owner of the account's partition), a batch is split by owner and
// answered per item, a client reads its own write from any instance; and when an owner is killed
// with -9 in the middle of a paced write load and the others are restarted one by one, every
// acknowledged write is readable afterwards and published exactly once.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "kam/v1/events.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

using kam::v1::InteractionsService;
using testing::Call;

constexpr int kPartitions = 3;

class InteractionsInstancesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    const std::string stamp = std::to_string(MillisFromTimestamp(NowTimestamp()));
    tag_ = "ii" + stamp;
    // Tests of this file run side by side: the test name keeps their groups apart.
    group_ = std::string("kam-interactions-") +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" + stamp;
    kafka::KafkaOptions options;
    options.brokers = brokers_;
    ASSERT_TRUE(
        kafka::EnsureTopics(options, {"kam.accounts.v1", "kam.interactions.v1"}, kPartitions, 30000)
            .ok());
  }

  testing::RunningService Start(const std::string& name) {
    return testing::StartService(
        "kam-interactions", brokers_, dir_.Sub(name),
        dir_.Sub(name + "-log-" + std::to_string(++starts_)),
        {"--consumer-group", group_, "--instance-id", name, "--session-timeout-ms", "6000"});
  }

  // Accounts on every partition, created the way kam-accounts publishes them (keyed, on the
  // partition Kafka's partitioner gives the key).
  std::vector<std::string> CreateAccounts(int count) {
    std::vector<std::string> ids;
    std::map<int32_t, std::vector<std::pair<std::string, std::string>>> by_partition;
    for (int n = 0; n < count; ++n) {
      const std::string id = tag_ + "-acc-" + std::to_string(n);
      ids.push_back(id);
      by_partition[kafka::PartitionOfKey(id, kPartitions)].emplace_back(
          id, testing::AccountCreatedEvent(id, "mgr-" + tag_));
    }
    for (const auto& [partition, records] : by_partition) {
      EXPECT_TRUE(testing::ProduceRecords(brokers_, "kam.accounts.v1", partition, records));
    }
    return ids;
  }

  static double Running(const testing::RunningService& s) {
    return testing::ScrapeMetric(s.metrics_port, "kam_tasks{state=\"running\"}");
  }

  static std::unique_ptr<InteractionsService::Stub> StubFor(const std::string& address) {
    return InteractionsService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }

  static kam::v1::RecordInteractionRequest Note(const std::string& account,
                                                const std::string& request_id) {
    kam::v1::RecordInteractionRequest request;
    request.set_request_id(request_id);
    request.mutable_interaction()->set_account_id(account);
    request.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_MEETING);
    request.mutable_interaction()->set_note(request_id);
    return request;
  }

  // Every InteractionRecorded of this test's accounts on kam.interactions.v1: id -> times seen.
  std::map<std::string, int> Published() {
    std::map<std::string, int> seen;
    for (const auto& record : testing::ReadTopic(brokers_, "kam.interactions.v1")) {
      if (record.key.rfind(tag_, 0) != 0) continue;
      kam::v1::EventEnvelope envelope;
      if (!envelope.ParseFromString(record.value)) continue;
      ++seen[envelope.interaction_recorded().interaction().id()];
    }
    return seen;
  }

  std::string brokers_;
  std::string tag_;
  std::string group_;
  testing::TempDir dir_;
  int starts_ = 0;
};

TEST_F(InteractionsInstancesTest, AnyInstanceAnswersForEveryAccountAndBatchesSplitByOwner) {
  std::vector<testing::RunningService> instances;
  for (const char* name : {"a", "b", "c"}) {
    instances.push_back(Start(name));
    ASSERT_TRUE(instances.back().process) << instances.back().address;
  }
  ASSERT_TRUE(testing::WaitFor([&] {
    double total = 0;
    for (const auto& s : instances) total += Running(s);
    return total == kPartitions && Running(instances[0]) == 1 && Running(instances[1]) == 1;
  })) << "the group gives each instance one task";
  std::vector<std::unique_ptr<InteractionsService::Stub>> stubs;
  for (const auto& s : instances) stubs.push_back(StubFor(s.address));
  const std::vector<std::string> accounts = CreateAccounts(12);

  // One write per account, each through another instance; read back through every instance.
  std::map<std::string, std::string> written;  // interaction id -> account
  for (size_t n = 0; n < accounts.size(); ++n) {
    kam::v1::Interaction recorded;
    grpc::Status status;
    // The replica of a just-created account may need a moment on its owner.
    ASSERT_TRUE(testing::WaitFor([&] {
      status = Call(stubs[n % 3].get(), &InteractionsService::Stub::RecordInteraction,
                    Note(accounts[n], tag_ + "-w" + std::to_string(n)), &recorded);
      return status.ok();
    })) << accounts[n]
        << ": " << status.error_message();
    written[recorded.id()] = accounts[n];
    for (auto& stub : stubs) {
      kam::v1::ListInteractionsRequest list;
      list.set_account_id(accounts[n]);
      kam::v1::ListInteractionsResponse page;
      // A read: a forwarded call cut short under load (UNAVAILABLE, a deadline) may be retried;
      // what it reads must be the write, at once.
      grpc::Status listed;
      ASSERT_TRUE(testing::WaitFor([&] {
        listed = Call(stub.get(), &InteractionsService::Stub::ListInteractions, list, &page);
        return listed.error_code() != grpc::StatusCode::UNAVAILABLE &&
               listed.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED;
      }));
      ASSERT_TRUE(listed.ok()) << listed.error_code() << " " << listed.error_message();
      ASSERT_EQ(page.interactions_size(), 1) << "every instance reads the write at once";
      EXPECT_EQ(page.interactions(0).id(), recorded.id());
      kam::v1::GetInteractionRequest get;
      get.set_id(recorded.id());
      kam::v1::Interaction got;
      ASSERT_TRUE(Call(stub.get(), &InteractionsService::Stub::GetInteraction, get, &got).ok());
      EXPECT_EQ(got.account_id(), accounts[n]);
      kam::v1::GetAccountHealthRequest health;
      health.set_account_id(accounts[n]);
      kam::v1::AccountHealth answer;
      ASSERT_TRUE(
          Call(stub.get(), &InteractionsService::Stub::GetAccountHealth, health, &answer).ok());
      EXPECT_TRUE(answer.has_last_contact_time()) << "the meeting counts as contact everywhere";
    }
  }
  // A retry through another instance answers with the first write.
  kam::v1::Interaction again;
  ASSERT_TRUE(Call(stubs[2].get(), &InteractionsService::Stub::RecordInteraction,
                   Note(accounts[0], tag_ + "-w0"), &again)
                  .ok());
  EXPECT_EQ(written.count(again.id()), 1u);

  // A batch over every account through one instance: split by owner, answered per item, in order;
  // one bad item refused alone; the same batch again changes nothing.
  kam::v1::BatchRecordInteractionsRequest batch;
  for (size_t n = 0; n < accounts.size(); ++n) {
    *batch.add_requests() = Note(accounts[n], tag_ + "-b" + std::to_string(n));
  }
  batch.mutable_requests(5)->mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_UNSPECIFIED);
  kam::v1::BatchRecordInteractionsResponse first, second;
  ASSERT_TRUE(
      Call(stubs[1].get(), &InteractionsService::Stub::BatchRecordInteractions, batch, &first)
          .ok());
  ASSERT_EQ(first.results_size(), batch.requests_size());
  for (int i = 0; i < first.results_size(); ++i) {
    EXPECT_EQ(first.results(i).index(), i);
    if (i == 5) {
      EXPECT_EQ(first.results(i).code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
      EXPECT_NE(first.results(i).error().find("interaction.type"), std::string::npos);
      continue;
    }
    ASSERT_TRUE(first.results(i).has_interaction()) << i << ": " << first.results(i).error();
    EXPECT_EQ(first.results(i).interaction().account_id(), accounts[i]);
    written[first.results(i).interaction().id()] = accounts[i];
  }
  ASSERT_TRUE(
      Call(stubs[0].get(), &InteractionsService::Stub::BatchRecordInteractions, batch, &second)
          .ok());
  for (int i = 0; i < second.results_size(); ++i) {
    if (i == 5) continue;
    EXPECT_EQ(second.results(i).interaction().id(), first.results(i).interaction().id());
  }

  // Unknown ids and accounts get the same answers from every instance.
  for (auto& stub : stubs) {
    kam::v1::GetInteractionRequest get;
    get.set_id("no-such-interaction");
    kam::v1::Interaction got;
    EXPECT_EQ(Call(stub.get(), &InteractionsService::Stub::GetInteraction, get, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
    kam::v1::GetAccountHealthRequest health;
    health.set_account_id(tag_ + "-nobody");
    kam::v1::AccountHealth answer;
    EXPECT_EQ(Call(stub.get(), &InteractionsService::Stub::GetAccountHealth, health, &answer)
                  .error_code(),
              grpc::StatusCode::NOT_FOUND);
  }

  // Published once each, nothing else.
  std::map<std::string, int> published;
  ASSERT_TRUE(testing::WaitFor([&] {
    published = Published();
    return published.size() >= written.size();
  }));
  EXPECT_EQ(published.size(), written.size());
  for (const auto& [id, times] : published) {
    EXPECT_EQ(times, 1) << id;
    EXPECT_TRUE(written.count(id)) << id << " published but never acknowledged";
  }
  // Two thirds of the single writes and reads went to another instance's task.
  std::string metrics = testing::Shell(
      "curl -s http://127.0.0.1:" + std::to_string(instances[0].metrics_port) + "/metrics");
  EXPECT_NE(metrics.find("kam_forwarded_calls_total{target="), std::string::npos);
}

// One writer thread's view of what was acknowledged.
struct Acknowledged {
  std::mutex mutex;
  std::map<std::string, std::string> by_request;  // request_id -> interaction id
  std::map<std::string, int> per_account;
  int retries = 0;
  int gave_up = 0;
};

TEST_F(InteractionsInstancesTest, OwnerKilledAndRollingRestartUnderLoadLoseNothingAndPublishOnce) {
  std::map<std::string, testing::RunningService> instances;
  for (const char* name : {"a", "b", "c"}) {
    instances[name] = Start(name);
    ASSERT_TRUE(instances[name].process) << instances[name].address;
  }
  ASSERT_TRUE(testing::WaitFor([&] {
    return Running(instances["a"]) + Running(instances["b"]) + Running(instances["c"]) ==
           kPartitions;
  }));
  const std::vector<std::string> accounts = CreateAccounts(30);
  std::vector<std::string> addresses;
  std::mutex addresses_mutex;
  for (auto& [name, s] : instances) addresses.push_back(s.address);

  // Paced writers: each write goes to a random instance, and is retried (same request_id, any
  // instance) while the answer says to retry.
  Acknowledged acknowledged;
  std::atomic<bool> stop{false};
  auto writer = [&](int number) {
    std::mt19937 random(number);
    for (int n = 0; !stop.load(); ++n) {
      const std::string& account = accounts[random() % accounts.size()];
      const std::string request_id = tag_ + "-t" + std::to_string(number) + "-" + std::to_string(n);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (true) {
        std::string address;
        {
          std::lock_guard<std::mutex> lock(addresses_mutex);
          address = addresses[random() % addresses.size()];
        }
        auto stub = StubFor(address);
        kam::v1::Interaction recorded;
        grpc::Status status = Call(stub.get(), &InteractionsService::Stub::RecordInteraction,
                                   Note(account, request_id), &recorded, std::chrono::seconds(5));
        std::lock_guard<std::mutex> lock(acknowledged.mutex);
        if (status.ok()) {
          acknowledged.by_request[request_id] = recorded.id();
          ++acknowledged.per_account[account];
          break;
        }
        if (!testing::RetrySafeWithRequestId(status) || std::chrono::steady_clock::now() > deadline) {
          ADD_FAILURE() << request_id << ": " << status.error_message();
          ++acknowledged.gave_up;
          break;
        }
        ++acknowledged.retries;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  };
  auto count = [&] {
    std::lock_guard<std::mutex> lock(acknowledged.mutex);
    return acknowledged.by_request.size();
  };
  auto replace_address = [&](const std::string& old_address, const std::string& new_address) {
    std::lock_guard<std::mutex> lock(addresses_mutex);
    for (auto& address : addresses) {
      if (address == old_address) address = new_address;
    }
  };
  // The replicas know every account before the load starts.
  for (const auto& account : accounts) {
    auto stub = StubFor(instances["a"].address);
    kam::v1::GetAccountHealthRequest health;
    health.set_account_id(account);
    kam::v1::AccountHealth answer;
    ASSERT_TRUE(testing::WaitFor([&] {
      return Call(stub.get(), &InteractionsService::Stub::GetAccountHealth, health, &answer).ok();
    })) << account;
  }
  std::vector<std::thread> writers;
  for (int number = 0; number < 3; ++number) writers.emplace_back(writer, number);
  ASSERT_TRUE(testing::WaitFor([&] { return count() >= 150; }, std::chrono::seconds(120)));

  // The owner of one task dies; the others take its task over (after the session timeout).
  instances["b"].process->Signal(SIGKILL);
  instances["b"].process->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Running(instances["a"]) + Running(instances["c"]) == kPartitions; },
      std::chrono::seconds(120)))
      << "a and c run every task after b is gone";
  size_t at = count();
  ASSERT_TRUE(testing::WaitFor([&] { return count() >= at + 100; }, std::chrono::seconds(120)));
  // b comes back on its disk; then every instance is restarted in turn (SIGTERM, start again).
  for (const char* name : {"b", "a", "c", "b"}) {
    testing::RunningService& old = instances[name];
    if (old.process->Running()) {
      old.process->Signal(SIGTERM);
      ASSERT_TRUE(old.process->Wait(std::chrono::seconds(60)).has_value()) << name;
    }
    testing::RunningService restarted = Start(name);
    ASSERT_TRUE(restarted.process) << name << ": " << restarted.address;
    replace_address(old.address, restarted.address);
    old = std::move(restarted);
    at = count();
    ASSERT_TRUE(testing::WaitFor([&] { return count() >= at + 60; }, std::chrono::seconds(120)))
        << "writes go on after restarting " << name;
  }
  stop = true;
  for (auto& thread : writers) thread.join();

  // Every acknowledged write is readable from any instance, and counted once per account.
  std::lock_guard<std::mutex> lock(acknowledged.mutex);
  EXPECT_EQ(acknowledged.gave_up, 0);
  std::set<std::string> acknowledged_ids;
  for (const auto& [request, id] : acknowledged.by_request) acknowledged_ids.insert(id);
  EXPECT_EQ(acknowledged_ids.size(), acknowledged.by_request.size()) << "one id per request";
  std::vector<std::unique_ptr<InteractionsService::Stub>> stubs;
  for (auto& [name, s] : instances) stubs.push_back(StubFor(s.address));
  int checked = 0;
  for (const auto& id : acknowledged_ids) {
    kam::v1::GetInteractionRequest get;
    get.set_id(id);
    kam::v1::Interaction got;
    grpc::Status status;
    ASSERT_TRUE(testing::WaitFor([&] {
      status =
          Call(stubs[checked % 3].get(), &InteractionsService::Stub::GetInteraction, get, &got);
      return status.error_code() != grpc::StatusCode::UNAVAILABLE;
    })) << id
        << ": " << status.error_message();
    EXPECT_TRUE(status.ok()) << id << ": " << status.error_message();
    ++checked;
  }
  for (const auto& [account, writes] : acknowledged.per_account) {
    kam::v1::ListInteractionsRequest list;
    list.set_account_id(account);
    list.set_page_size(1000);
    kam::v1::ListInteractionsResponse page;
    ASSERT_TRUE(
        Call(stubs[0].get(), &InteractionsService::Stub::ListInteractions, list, &page).ok());
    EXPECT_EQ(page.interactions_size(), writes)
        << account << ": stored once per acknowledged write";
  }
  std::map<std::string, int> published;
  ASSERT_TRUE(testing::WaitFor([&] {
    published = Published();
    return published.size() >= acknowledged_ids.size();
  }));
  for (const auto& id : acknowledged_ids) EXPECT_EQ(published[id], 1) << id;
  EXPECT_EQ(published.size(), acknowledged_ids.size()) << "nothing published that was refused";
  std::printf("acknowledged %zu writes (%d retries) across a kill -9 and four restarts\n",
              acknowledged_ids.size(), acknowledged.retries);
}

}  // namespace
}  // namespace kam
