// Silences (silences.h), snoozes and grouping: what notifiers are told to skip, decided when an
// alert changes and stored with the change.

#include "services/alerts/silences.h"

#include <gtest/gtest.h>

#include "tests/services/alerts/engine_fixture.h"

namespace kam::alerts {
namespace {

constexpr int64_t kHour = 3600 * 1000;

kam::v1::CreateSilenceRequest SilenceRequest() {
  kam::v1::CreateSilenceRequest request;
  auto* silence = request.mutable_silence();
  silence->set_manager_id("mgr_1");
  silence->set_created_by("lead@example.com");
  silence->set_comment("reorganisation of the north team");
  *silence->mutable_end_time() = TimestampFromMillis(kStart + 2 * kHour);
  return request;
}

TEST(NewSilenceTest, NamesTheFieldOfEveryBadRequest) {
  EXPECT_TRUE(NewSilence(SilenceRequest(), kStart).ok());
  auto message = [](kam::v1::CreateSilenceRequest request) {
    return std::string(NewSilence(request, kStart).status().message());
  };
  auto request = SilenceRequest();
  request.mutable_silence()->clear_manager_id();
  EXPECT_NE(message(request).find("at least one matcher"), std::string::npos);
  request = SilenceRequest();
  request.mutable_silence()->set_rule(static_cast<kam::v1::AlertRule>(99));
  EXPECT_NE(message(request).find("silence.rule"), std::string::npos);
  request = SilenceRequest();
  request.mutable_silence()->clear_comment();
  EXPECT_NE(message(request).find("silence.comment"), std::string::npos);
  request = SilenceRequest();
  request.mutable_silence()->clear_end_time();
  EXPECT_NE(message(request).find("silence.end_time"), std::string::npos);
  request = SilenceRequest();
  *request.mutable_silence()->mutable_end_time() = TimestampFromMillis(kStart - 1);
  EXPECT_NE(message(request).find("in the future"), std::string::npos);
  request = SilenceRequest();
  *request.mutable_silence()->mutable_end_time() = TimestampFromMillis(kStart + 91 * kDay);
  EXPECT_NE(message(request).find("90 days"), std::string::npos);

  auto first = NewSilence(SilenceRequest(), kStart);
  EXPECT_EQ(MillisFromTimestamp(first->start_time()), kStart) << "starts now when unset";
  EXPECT_NE(NewSilence(SilenceRequest(), kStart)->id(), first->id()) << "a new id per call";
  request = SilenceRequest();
  request.set_request_id("reorg-2026-11");
  EXPECT_EQ(NewSilence(request, kStart)->id(), NewSilence(request, kStart + 5)->id())
      << "a retry of the same request names the same silence";
}

TEST(SilenceMatchesTest, EveryMatcherSetMustMatchWhileActive) {
  kam::v1::Silence silence = *NewSilence(SilenceRequest(), kStart);
  silence.set_tier(kam::v1::TIER_A);
  kam::v1::Alert alert;
  alert.set_rule(kam::v1::ALERT_RULE_SATISFACTION_LOW);
  alert.set_manager_id("mgr_1");
  EXPECT_TRUE(SilenceMatches(silence, alert, kam::v1::TIER_A, 0, kStart));
  EXPECT_FALSE(SilenceMatches(silence, alert, kam::v1::TIER_B, 0, kStart)) << "tier";
  EXPECT_FALSE(SilenceMatches(silence, alert, kam::v1::TIER_A, 0, kStart - 1)) << "not started";
  EXPECT_FALSE(SilenceMatches(silence, alert, kam::v1::TIER_A, 0, kStart + 2 * kHour)) << "ended";
  alert.set_manager_id("mgr_2");
  EXPECT_FALSE(SilenceMatches(silence, alert, kam::v1::TIER_A, 0, kStart)) << "manager";
}

class NotificationsTest : public AlertsEngineFixture {
 protected:
  kam::internal::v1::AlertCommandResult Snooze(const std::string& id, int64_t end,
                                               int64_t wall = kStart) {
    kam::internal::v1::AlertCommand command;
    command.set_wall_millis(wall);
    auto* snooze = command.mutable_snooze();
    snooze->set_id(id);
    snooze->set_snoozed_by("lead@example.com");
    snooze->set_reason("customer on holiday");
    *snooze->mutable_end_time() = TimestampFromMillis(end);
    return Command(command);
  }
  std::vector<std::pair<std::string, bool>> Published() {
    std::vector<std::pair<std::string, bool>> published;
    for (const auto& event : CloudEvents()) {
      published.emplace_back(event["type"], event["kamsuppressed"].get<bool>());
    }
    return published;
  }
  SilenceBook silences_;
  int64_t wall_ = kStart;
};

TEST_F(NotificationsTest, ASnoozedAlertLeavesTheFiringListAndReturnsWhenTheSnoozeEnds) {
  Load("mgr_1", 3.5, 3);
  const std::string id = Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1")->id();
  auto snoozed = Snooze(id, kStart + 2 * kHour);
  ASSERT_EQ(snoozed.code(), 0) << snoozed.message();
  EXPECT_EQ(snoozed.alert().state(), kam::v1::ALERT_STATE_SNOOZED);
  EXPECT_EQ(snoozed.alert().snooze_reason(), "customer on holiday");
  EXPECT_TRUE(Alerts(kam::v1::ALERT_STATE_FIRING).empty());
  Load("mgr_1", 3.9, 3);  // worse while snoozed: recorded, still quiet
  EXPECT_EQ(Alerts(kam::v1::ALERT_STATE_SNOOZED).size(), 1u);

  ASSERT_TRUE(applier_->Punctuate(kStart + 2 * kHour - 1).ok());
  EXPECT_TRUE(Alerts(kam::v1::ALERT_STATE_FIRING).empty());
  ASSERT_TRUE(applier_->Punctuate(kStart + 2 * kHour).ok());
  auto firing = Alerts(kam::v1::ALERT_STATE_FIRING);
  ASSERT_EQ(firing.size(), 1u);
  EXPECT_EQ(firing[0].id(), id) << "the same instance comes back";
  EXPECT_EQ(firing[0].severity(), kam::v1::SEVERITY_CRITICAL);
  EXPECT_EQ(Published(), (std::vector<std::pair<std::string, bool>>{
                             {"dev.kam.alert.fired", false},
                             {"dev.kam.alert.snoozed", true},
                             {"dev.kam.alert.severity_changed", true},
                             {"dev.kam.alert.snooze_ended", false}}));
}

TEST_F(NotificationsTest, ASnoozeEndsEarlyOnResolutionAndIsRefusedForBadRequests) {
  Load("mgr_1", 3.5, 3);
  const std::string id = Firing(kam::v1::ALERT_RULE_MANAGER_OVERLOADED, "mgr_1")->id();
  EXPECT_EQ(Snooze(id, kStart).code(), static_cast<int>(absl::StatusCode::kInvalidArgument))
      << "an end in the past";
  EXPECT_EQ(Snooze("nope", kStart + kHour).code(), static_cast<int>(absl::StatusCode::kNotFound));
  ASSERT_EQ(Snooze(id, kStart + kHour).code(), 0);
  Load("mgr_1", 2.0, 3);  // the condition clears while snoozed
  ASSERT_TRUE(applier_->Punctuate(kStart + 2 * kHour).ok());
  auto alerts = Alerts();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].state(), kam::v1::ALERT_STATE_RESOLVED) << "does not come back";
  EXPECT_EQ(Snooze(id, kStart + 3 * kHour).code(),
            static_cast<int>(absl::StatusCode::kFailedPrecondition));
  const auto published = Published();
  ASSERT_FALSE(published.empty());
  EXPECT_EQ(published.back(), (std::pair<std::string, bool>{"dev.kam.alert.resolved", false}))
      << "a notifier that paged before the snooze must be able to close the incident";
}

TEST_F(NotificationsTest, AChangeWhileASilenceIsActiveIsMarkedAndNotNotified) {
  configure_ = [this](EngineOptions& options) {
    options.wall_clock = [this] { return wall_; };
    options.silences_matching = [this](const kam::v1::Alert& alert, int tier, int industry,
                                       int64_t at) {
      return silences_.Matching(alert, tier, industry, at);
    };
  };
  Open("silenced");
  kam::internal::v1::AlertCommand command;
  command.set_wall_millis(kStart);
  *command.mutable_create_silence() = *NewSilence(SilenceRequest(), kStart);
  auto created = Command(command);
  ASSERT_EQ(created.code(), 0) << created.message();
  // The book follows task 0's state through the changelog; here, straight from the store.
  auto it = store_->NewIterator(kSilencesCf);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    silences_.Apply(0, std::string(kSilencesCf) + std::string(1, '\0') + it->key().ToString(),
                    it->value().ToStringView());
  }
  ASSERT_EQ(silences_.List({}, kStart).silences_size(), 1);

  // Silences go by wall time: the change made now is silenced, whatever its event time.
  wall_ = kStart + kHour;
  Load("mgr_1", 3.5, 3, 0, kStart - 30 * kDay);
  Load("mgr_2", 3.5, 3, 0, kStart);  // another manager: not matched
  wall_ = kStart + 3 * kHour;        // the silence has ended
  Load("mgr_1", 3.9, 3, 0, kStart + kHour);
  auto events = CloudEvents();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["data"]["silenced_by"][0], created.silence().id());
  EXPECT_TRUE(events[0]["kamsuppressed"].get<bool>());
  EXPECT_FALSE(events[1]["kamsuppressed"].get<bool>());
  EXPECT_FALSE(events[2]["kamsuppressed"].get<bool>());
  EXPECT_FALSE(events[2]["data"].contains("silenced_by"));
}

TEST_F(NotificationsTest, AccountAlertsOfAnOverloadedManagerNameItsAlertAsTheirGroup) {
  configure_ = [](EngineOptions& options) {
    options.open_overload_alert = [](const std::string& manager) {
      return manager == "mgr_1" ? std::string("overload-1") : std::string();
    };
  };
  Open("grouped");
  Account("acc_1", kStart);
  Survey("acc_1", 1, -80);
  Survey("acc_1", 2, -80);
  auto low = Firing(kam::v1::ALERT_RULE_SATISFACTION_LOW, "acc_1");
  ASSERT_TRUE(low);
  EXPECT_EQ(low->group_alert_id(), "overload-1");
  EXPECT_TRUE(low->notification_suppressed()) << "quiet when grouped, built in";
  kam::v1::ListAlertsRequest parts;
  parts.set_group_alert_id("overload-1");
  EXPECT_EQ(engine_->ListAlerts(parts)->alerts_size(), 1);
  EXPECT_EQ(CloudEvents().back()["kamgroup"], "overload-1");

  configure_ = [](EngineOptions& options) {
    options.rules.quiet_when_grouped.clear();
    options.open_overload_alert = [](const std::string&) { return std::string("overload-1"); };
  };
  Open("grouped-loud");
  Account("acc_1", kStart);
  Survey("acc_1", 1, -80);
  Survey("acc_1", 2, -80);
  low = Firing(kam::v1::ALERT_RULE_SATISFACTION_LOW, "acc_1");
  ASSERT_TRUE(low);
  EXPECT_EQ(low->group_alert_id(), "overload-1");
  EXPECT_FALSE(low->notification_suppressed()) << "the rules file says notify";
}

}  // namespace
}  // namespace kam::alerts
