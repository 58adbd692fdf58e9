// The stream-tasks issue's proof under faults: three kam-alerts instances in one consumer group
// work through 21,000 interactions while the group grows from one instance to three, instances are
// killed with -9 and restarted (before and after the session timeout), one is frozen with SIGSTOP
// past the session timeout and continued, and the group shrinks to two. What the group published
// must equal what one instance publishes for the same input without any fault: the same alerts
// open, every alert with the same changes in the same order, no CloudEvent twice.

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/kafka/kafka_common.h"
#include "common/time_util.h"
#include "tests/testing/alert_stream.h"
#include "tests/testing/process.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

constexpr int kAccounts = 150;  // 50 per partition
constexpr int kAnswers = 140;   // per account: 21,000 interactions
constexpr int kSlices = 10;     // the input arrives in ten slices, faults in between
const std::vector<std::string> kInputs = {"kam.accounts.v1", "kam.interactions.v1"};

using Records = std::map<int32_t, std::vector<std::pair<std::string, std::string>>>;

// Survey answers of `account` number `a`: every third account steady, the others sliding and
// recovering in cycles, so alerts fire, escalate and resolve many times over the run. Event times
// lie in the last eight days: NO_CONTACT (21 days at least) never falls due, so the history does
// not depend on when an idle partition's clock follows the wall clock.
Records Slice(const std::string& tag, int slice, int64_t base_millis) {
  static const int kCycle[] = {9, 9, 8, 7, 5, 4, 3, 3, 5, 7, 9, 9};
  Records surveys;
  const int per_slice = kAnswers / kSlices;
  const int64_t step = 8LL * 24 * 3600 * 1000 / kAnswers;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string account = tag + "-acc-" + std::to_string(a);
    for (int i = slice * per_slice; i < (slice + 1) * per_slice; ++i) {
      const int nps = a % 3 == 0 ? 8 + i % 2 : kCycle[(i + a) % 12];
      surveys[a % 3].emplace_back(
          account, testing::SurveyEvent(account, account + "-s" + std::to_string(i),
                                        base_millis + i * step + a * 1000, nps));
    }
  }
  return surveys;
}

bool Produce(const std::string& brokers, const std::string& topic, const Records& records) {
  for (const auto& [partition, batch] : records) {
    if (!testing::ProduceRecords(brokers, topic, partition, batch)) return false;
  }
  return true;
}

// One named member of the group; every life of it shares its data dir and instance id.
struct Member {
  explicit Member(std::string member_name) : name(std::move(member_name)) {}
  std::string name;
  testing::RunningService service;
  int lives = 0;
  bool frozen = false;
  bool Up() const { return service.process && service.process->Running() && !frozen; }
};

class Group {
 public:
  Group(std::string brokers, std::string group, testing::TempDir* dir)
      : brokers_(std::move(brokers)), group_(std::move(group)), dir_(dir) {}

  bool Start(Member& member) {
    member.service = testing::StartService(
        "kam-alerts", brokers_, dir_->Sub(member.name),
        dir_->Sub(member.name + "-life" + std::to_string(member.lives++)),
        {"--consumer-group", group_, "--instance-id", member.name, "--session-timeout-ms", "6000"});
    if (member.service.process) producers_.insert(member.service.producer);
    return member.service.process != nullptr;
  }

  // Tasks running on the members that are up (a frozen one cannot answer a scrape).
  static int RunningTasks(const std::vector<Member*>& members) {
    int running = 0;
    for (const Member* member : members) {
      if (!member->Up()) continue;
      double tasks =
          testing::ScrapeMetric(member->service.metrics_port, "kam_tasks{state=\"running\"}");
      if (tasks > 0) running += static_cast<int>(tasks);
    }
    return running;
  }

  const std::set<std::string>& producers() const { return producers_; }

 private:
  std::string brokers_;
  std::string group_;
  testing::TempDir* dir_;
  std::set<std::string> producers_;
};

std::string Logs(const std::vector<Member*>& members) {
  std::string logs;
  for (const Member* member : members) {
    if (member->service.process) {
      logs += "--- " + member->name + "\n" + member->service.process->Stderr().substr(0, 20000);
    }
  }
  return logs;
}

TEST(StreamChaosTest, ThreeInstancesThroughKillsAFreezeAndRebalancesPublishWhatOneWouldAlone) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const int64_t now = MillisFromTimestamp(NowTimestamp());
  const std::string stamp = std::to_string(now);
  const unsigned seed = static_cast<unsigned>(now);
  std::mt19937 random(seed);
  SCOPED_TRACE("random seed " + std::to_string(seed));
  kafka::KafkaOptions options;
  options.brokers = brokers;
  ASSERT_TRUE(kafka::EnsureTopics(options, kInputs, 3, 30000).ok());

  const std::string tag = "chaos" + stamp;
  const int64_t base = now - 9LL * 24 * 3600 * 1000;
  Records accounts;
  for (int a = 0; a < kAccounts; ++a) {
    const std::string id = tag + "-acc-" + std::to_string(a);
    accounts[a % 3].emplace_back(id, testing::AccountCreatedEvent(id, "mgr-" + tag));
  }

  Group group(brokers, "kam-alerts-chaos-" + stamp, &dir);
  Member m0("m0"), m1("m1"), m2("m2");
  std::vector<Member*> members = {&m0, &m1, &m2};
  auto up = [&] {
    std::vector<Member*> alive;
    for (Member* member : members) {
      if (member->Up()) alive.push_back(member);
    }
    return alive;
  };
  auto pick = [&] {
    auto alive = up();
    return alive[std::uniform_int_distribution<size_t>(0, alive.size() - 1)(random)];
  };
  // Every task runs on exactly one of the members that are up (after a rebalance settled).
  auto settled = [&] {
    return testing::WaitFor([&] { return Group::RunningTasks(members) == 3; },
                            std::chrono::seconds(90));
  };
  int slice = 0;
  auto produce_slice = [&] {
    return Produce(brokers, "kam.interactions.v1", Slice(tag, slice++, base));
  };

  // Grow from one instance to three while loading.
  ASSERT_TRUE(group.Start(m0)) << m0.service.address;
  ASSERT_TRUE(Produce(brokers, "kam.accounts.v1", accounts));
  ASSERT_TRUE(produce_slice());
  ASSERT_TRUE(group.Start(m1)) << m1.service.address;
  ASSERT_TRUE(produce_slice());
  ASSERT_TRUE(group.Start(m2)) << m2.service.address;
  ASSERT_TRUE(settled()) << Logs(members);
  ASSERT_TRUE(produce_slice());

  // Five kills with -9: a restart within the session timeout takes the same tasks back at once
  // (static membership); one after it finds them moved to the others and gets some back.
  for (int kill = 0; kill < 5; ++kill) {
    Member* victim = pick();
    const bool before_timeout = std::bernoulli_distribution(0.5)(random);
    const std::string step = "kill " + std::to_string(kill) + " of " + victim->name +
                             (before_timeout ? ", back before" : ", back after") +
                             " the session timeout";
    std::printf("%s\n", step.c_str());
    SCOPED_TRACE(step);
    victim->service.process->Signal(SIGKILL);
    victim->service.process->Wait(std::chrono::seconds(10));
    ASSERT_TRUE(produce_slice());
    if (!before_timeout) {
      ASSERT_TRUE(settled()) << Logs(members);
    }
    ASSERT_TRUE(group.Start(*victim)) << victim->service.address;
    ASSERT_TRUE(settled()) << Logs(members);
  }

  // A freeze past the session timeout: the others take its tasks over; when it continues, whatever
  // it still had in flight is fenced. It rejoins, or stops itself having lost its role and is
  // started again.
  {
    Member* frozen = pick();
    std::printf("froze %s\n", frozen->name.c_str());
    SCOPED_TRACE("froze " + frozen->name);
    frozen->service.process->Signal(SIGSTOP);
    frozen->frozen = true;
    ASSERT_TRUE(produce_slice());
    ASSERT_TRUE(settled()) << Logs(members);
    frozen->service.process->Signal(SIGCONT);
    frozen->frozen = false;
    ASSERT_TRUE(testing::WaitFor(
        [&] { return !frozen->service.process->Running() || Group::RunningTasks(members) == 3; },
        std::chrono::seconds(90)));
    if (!frozen->service.process->Running()) {
      EXPECT_NE(frozen->service.process->Stderr().find("lost the role"), std::string::npos)
          << frozen->service.process->Stderr();
      ASSERT_TRUE(group.Start(*frozen)) << frozen->service.address;
    }
    ASSERT_TRUE(settled()) << Logs(members);
  }

  // Shrink to two and load the rest.
  {
    Member* leaving = pick();
    std::printf("%s leaves\n", leaving->name.c_str());
    leaving->service.process->Signal(SIGTERM);
    ASSERT_EQ(leaving->service.process->Wait(std::chrono::seconds(30)), 0)
        << leaving->service.process->Stderr();
    ASSERT_TRUE(settled()) << Logs(members);
  }
  while (slice < kSlices) ASSERT_TRUE(produce_slice());
  ASSERT_TRUE(testing::WaitFor(
      [&] { return testing::CaughtUp(brokers, "kam-alerts-chaos-" + stamp, kInputs); },
      std::chrono::seconds(180)))
      << Logs(members);
  const testing::AlertOutcome actual = testing::ReadAlertOutcome(brokers, tag, group.producers());

  // The reference: one instance, no fault, the same input.
  const std::string reference_group = "kam-alerts-reference-" + stamp;
  auto reference = testing::StartService("kam-alerts", brokers, dir.Sub("reference"),
                                         dir.Sub("reference-log"),
                                         {"--consumer-group", reference_group});
  ASSERT_TRUE(reference.process) << reference.address;
  ASSERT_TRUE(testing::WaitFor(
      [&] { return testing::CaughtUp(brokers, reference_group, kInputs); },
      std::chrono::seconds(180)))
      << reference.process->Stderr();
  const testing::AlertOutcome expected =
      testing::ReadAlertOutcome(brokers, tag, {reference.producer});

  ASSERT_GT(expected.changes.size(), 50u) << "the input raises alerts";
  EXPECT_EQ(expected.duplicates, 0);
  EXPECT_EQ(actual.duplicates, 0) << "a CloudEvent was published twice";
  EXPECT_EQ(actual.open, expected.open);
  size_t changes = 0, differing = 0;
  for (const auto& [id, history] : expected.changes) {
    changes += history.size();
    auto it = actual.changes.find(id);
    if (it == actual.changes.end() || it->second != history) {
      if (++differing <= 5) {
        ADD_FAILURE() << id << ": the group published "
                      << (it == actual.changes.end() ? 0 : it->second.size())
                      << " changes, one instance alone " << history.size();
      }
    }
  }
  for (const auto& [id, history] : actual.changes) {
    if (!expected.changes.count(id)) ADD_FAILURE() << id << " was published by the group only";
  }
  EXPECT_EQ(differing, 0u) << "of " << expected.changes.size() << " alerts";
  RecordProperty("alert_changes", static_cast<int>(changes));
  RecordProperty("alerts", static_cast<int>(expected.changes.size()));
  std::printf("%zu alerts, %zu changes; the group matched one instance alone\n",
              expected.changes.size(), changes);
}

}  // namespace
}  // namespace kam
