// Flap damping (damping.h): a rule's verdict acts only once it has held for the rule's pending or
// hold time, in event time.

#include "services/alerts/damping.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/services/alerts/engine_fixture.h"

namespace kam::alerts {
namespace {

constexpr int64_t kMinute = 60 * 1000;

class DampingTest : public AlertsEngineFixture {
 protected:
  void Damp() {
    configure_ = [](EngineOptions& options) {
      options.rules.damping[kam::v1::ALERT_RULE_MANAGER_OVERLOADED] = {15 * kMinute, 60 * kMinute};
    };
    Open("damped");
  }
  // The account moved back and forth across the manager's capacity six times, a minute apart.
  void Flap() {
    for (int move = 0; move < 6; ++move) {
      Load("mgr_1", 3.5, 3, 4, kStart + (2 * move) * kMinute);
      Load("mgr_1", 2.5, 3, 3, kStart + (2 * move + 1) * kMinute);
    }
  }
  std::vector<std::string> Types() {
    std::vector<std::string> types;
    for (const auto& event : CloudEvents()) types.push_back(event["type"]);
    return types;
  }
};

TEST_F(DampingTest, AFlappingOverloadChangesNothingAHumanSees) {
  Flap();  // undamped, as kam was before
  EXPECT_EQ(Types().size(), 12u) << "six instances fired and resolved";

  Damp();
  Flap();
  ASSERT_TRUE(applier_->Punctuate(kStart + 10 * kDay).ok());  // every wait is over
  EXPECT_TRUE(Types().empty());
  EXPECT_TRUE(Alerts().empty());
}

TEST_F(DampingTest, AHeldConditionFiresAfterItsPendingTimeAndResolvesAfterItsHoldTime) {
  Damp();
  Load("mgr_1", 3.5, 3, 4, kStart);
  ASSERT_TRUE(applier_->Punctuate(kStart + 15 * kMinute - 1).ok());
  EXPECT_TRUE(Alerts().empty()) << "still pending";
  Load("mgr_1", 3.9, 3, 4, kStart + 10 * kMinute);  // a newer verdict does not restart the wait
  ASSERT_TRUE(applier_->Punctuate(kStart + 15 * kMinute).ok());
  auto firing = Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1");
  ASSERT_TRUE(firing);
  EXPECT_EQ(MillisFromTimestamp(firing->start_time()), kStart + 15 * kMinute);
  EXPECT_EQ(firing->severity(), kam::v1::SEVERITY_CRITICAL) << "the latest verdict applies";

  // Below capacity for 50 minutes, over again, then below for good: one instance throughout.
  Load("mgr_1", 2.5, 3, 3, kStart + 20 * kMinute);
  ASSERT_TRUE(applier_->Punctuate(kStart + 70 * kMinute).ok());
  EXPECT_TRUE(Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1")) << "holding";
  Load("mgr_1", 3.9, 3, 4, kStart + 75 * kMinute);
  Load("mgr_1", 2.5, 3, 3, kStart + 80 * kMinute);
  ASSERT_TRUE(applier_->Punctuate(kStart + 140 * kMinute - 1).ok());
  EXPECT_TRUE(Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1"));
  ASSERT_TRUE(applier_->Punctuate(kStart + 140 * kMinute).ok());
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1"));
  const auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(MillisFromTimestamp(alerts[0].resolve_time()), kStart + 140 * kMinute);
  EXPECT_EQ(Types(), (std::vector<std::string>{"dev.kam.alert.fired", "dev.kam.alert.resolved"}));
}

TEST_F(DampingTest, AVerdictWhoseWaitIsOverActsEvenIfNoSweepRanBeforeTheNextOne) {
  Damp();
  Load("mgr_1", 3.5, 3, 4, kStart);
  // No punctuation and no interaction moved the clock: the next verdict comes first.
  Load("mgr_1", 2.5, 3, 3, kStart + 20 * kMinute);
  auto firing = Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1");
  ASSERT_TRUE(firing) << "fired as of the end of its pending time, now holding";
  EXPECT_EQ(MillisFromTimestamp(firing->start_time()), kStart + 15 * kMinute);
  ASSERT_TRUE(applier_->Punctuate(kStart + 80 * kMinute).ok());
  EXPECT_FALSE(Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1"));
}

TEST_F(DampingTest, ASnoozeDoesNotEndIntoFiringWhileTheResolutionWaitsOutItsHold) {
  Damp();
  Load("mgr_1", 3.5, 3, 4, kStart);
  ASSERT_TRUE(applier_->Punctuate(kStart + 15 * kMinute).ok());
  const std::string id = Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1")->id();
  kam::internal::v1::AlertCommand command;
  command.set_wall_millis(kStart + 16 * kMinute);
  command.mutable_snooze()->set_id(id);
  command.mutable_snooze()->set_snoozed_by("lead");
  command.mutable_snooze()->set_reason("planning session");
  *command.mutable_snooze()->mutable_end_time() = TimestampFromMillis(kStart + 30 * kMinute);
  ASSERT_EQ(Command(command).code(), 0);
  Load("mgr_1", 2.5, 3, 3, kStart + 20 * kMinute);  // cleared: resolves at +80 after its hold
  ASSERT_TRUE(applier_->Punctuate(kStart + 79 * kMinute).ok());
  EXPECT_EQ(Alerts()[0].state(), kam::v1::ALERT_STATE_SNOOZED) << "no page minutes before the end";
  ASSERT_TRUE(applier_->Punctuate(kStart + 90 * kMinute).ok());
  EXPECT_EQ(Alerts()[0].state(), kam::v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(Types(), (std::vector<std::string>{"dev.kam.alert.fired", "dev.kam.alert.snoozed",
                                               "dev.kam.alert.resolved"}));
}

TEST_F(DampingTest, AWaitingVerdictSurvivesARestart) {
  Damp();
  Load("mgr_1", 3.5, 3, 4, kStart);
  Open("damped");  // the same store: a restart, or the task moved with its changelog
  for (int32_t task = 0; task < 3; ++task) engine_->TaskRunning(task);
  ASSERT_TRUE(applier_->Punctuate(kStart + 16 * kMinute).ok());
  EXPECT_TRUE(Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1"));
}

TEST(RulesFileDampingTest, ReadsPendingAndHoldTimesAndRefusesUnknownRules) {
  auto rules = LoadRules(std::string(KAM_SOURCE_DIR) + "/deploy/alerts-rules.json");
  ASSERT_TRUE(rules.ok()) << rules.status();
  EXPECT_EQ(rules->DampingFor(kam::v1::ALERT_RULE_MANAGER_OVERLOADED).pending_millis,
            15 * kMinute);
  EXPECT_EQ(rules->DampingFor(kam::v1::ALERT_RULE_MANAGER_OVERLOADED).hold_millis, 60 * kMinute);
  EXPECT_EQ(rules->DampingFor(kam::v1::ALERT_RULE_CHURN_RISK).pending_millis, 0);
  EXPECT_EQ(RulesConfig().DampingFor(kam::v1::ALERT_RULE_MANAGER_OVERLOADED).pending_millis, 0)
      << "built in, nothing is damped";

  testing::TempDir dir;
  const std::string path = dir.Sub("rules.json");
  auto refused = [&](const std::string& json) {
    std::ofstream(path) << json;
    return LoadRules(path).status();
  };
  EXPECT_NE(refused(R"({"damping": {"NO_SUCH_RULE": {"pending_minutes": 5}}})").message().find(
                "damping.NO_SUCH_RULE: unknown rule"),
            std::string::npos);
  EXPECT_NE(refused(R"({"damping": {"NO_CONTACT": {"pending_minutes": -1}}})").message().find(
                "damping.NO_CONTACT.pending_minutes"),
            std::string::npos);
  EXPECT_NE(refused(R"({"damping": {"NO_CONTACT": {"for": 5}}})").message().find("unknown"),
            std::string::npos);
  EXPECT_NE(refused(R"({"quiet_when_grouped": ["CHURN_RISK"]})").message().find("not grouped"),
            std::string::npos);
}

}  // namespace
}  // namespace kam::alerts
