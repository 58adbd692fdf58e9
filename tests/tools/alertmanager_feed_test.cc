#include "tools/alertmanager_bridge/alertmanager_feed.h"

#include <gtest/gtest.h>

#include "common/time_util.h"
#include "services/alerts/cloud_event.h"
#include "tools/alertmanager_bridge/pagerduty_feed.h"

namespace kam::bridge {
namespace {

constexpr int64_t kNow = 1'790'000'000'000;

std::string Event(kam::v1::AlertState state, bool suppressed, int64_t resolve_millis = 0) {
  kam::v1::AlertChange change;
  change.set_kind(kam::v1::ALERT_CHANGE_KIND_FIRED);
  auto* alert = change.mutable_alert();
  alert->set_id("fp-1");
  alert->set_fingerprint("fp");
  alert->set_rule(kam::v1::ALERT_RULE_SATISFACTION_LOW);
  alert->set_severity(kam::v1::SEVERITY_WARNING);
  alert->set_state(state);
  alert->set_account_id("acc_1");
  alert->set_manager_id("mgr_1");
  alert->set_group_alert_id("overload-1");
  alert->set_account_tier(kam::v1::TIER_A);
  alert->set_key_account(true);
  *alert->mutable_start_time() = TimestampFromMillis(kNow - 60000);
  *alert->mutable_update_time() = TimestampFromMillis(kNow);
  if (resolve_millis > 0) *alert->mutable_resolve_time() = TimestampFromMillis(resolve_millis);
  alert->set_notification_suppressed(suppressed);
  return alerts::RenderCloudEvent(change, 0, 1);
}

std::vector<std::string> Actions(const std::vector<PagerDutyEvent>& events) {
  std::vector<std::string> actions;
  for (const auto& event : events) actions.push_back(event.action);
  return actions;
}

TEST(AlertmanagerFeedTest, FiringAlertsAreSentWithAnEndAFewResendsAhead) {
  AlertmanagerFeed feed({.resend_millis = 30000});
  ASSERT_TRUE(feed.Apply(Event(kam::v1::ALERT_STATE_FIRING, false)));
  auto payload = feed.Payload(kNow);
  ASSERT_EQ(payload.size(), 1u);
  EXPECT_EQ(payload[0]["labels"]["alertname"], "SATISFACTION_LOW");
  EXPECT_EQ(payload[0]["labels"]["severity"], "warning");
  EXPECT_EQ(payload[0]["labels"]["group_alert_id"], "overload-1");
  // Routing by the owner and by what the account is worth, without parsing summaries.
  EXPECT_EQ(payload[0]["labels"]["manager_id"], "mgr_1");
  EXPECT_EQ(payload[0]["labels"]["tier"], "a");
  EXPECT_EQ(payload[0]["labels"]["key_account"], "true");
  EXPECT_EQ(payload[0]["startsAt"], "2026-09-21T14:12:20.000Z");
  EXPECT_EQ(payload[0]["endsAt"], "2026-09-21T14:14:50.000Z") << "now + 3 x 30 s";
}

TEST(AlertmanagerFeedTest, SuppressedAndSnoozedAlertsAreNotSentAndLapse) {
  AlertmanagerFeed feed({});
  ASSERT_TRUE(feed.Apply(Event(kam::v1::ALERT_STATE_FIRING, true)));
  EXPECT_TRUE(feed.Payload(kNow).empty());
  ASSERT_TRUE(feed.Apply(Event(kam::v1::ALERT_STATE_SNOOZED, true)));
  EXPECT_TRUE(feed.Payload(kNow).empty());
}

TEST(AlertmanagerFeedTest, AResolutionIsSentForItsKeepPeriodThenForgotten) {
  AlertmanagerFeed feed({.resolved_keep_millis = 15 * 60000});
  ASSERT_TRUE(feed.Apply(Event(kam::v1::ALERT_STATE_RESOLVED, false, kNow)));
  auto payload = feed.Payload(kNow + 60000);
  ASSERT_EQ(payload.size(), 1u);
  EXPECT_EQ(payload[0]["endsAt"], "2026-09-21T14:13:20.000Z") << "its resolve time";
  EXPECT_TRUE(feed.Payload(kNow + 16 * 60000).empty());
  EXPECT_EQ(feed.known(), 0u);
}

TEST(AlertmanagerFeedTest, ALabelChangeEndsTheLabelSetSentBefore) {
  AlertmanagerFeed feed({});
  ASSERT_TRUE(feed.Apply(Event(kam::v1::ALERT_STATE_FIRING, false)));
  ASSERT_EQ(feed.Payload(kNow).size(), 1u);
  std::string critical = Event(kam::v1::ALERT_STATE_FIRING, false);
  const std::string warning = "\"severity\":\"SEVERITY_WARNING\"";
  critical.replace(critical.find(warning), warning.size(), "\"severity\":\"SEVERITY_CRITICAL\"");
  ASSERT_TRUE(feed.Apply(critical));
  auto payload = feed.Payload(kNow + 1000);
  ASSERT_EQ(payload.size(), 2u) << payload.dump();
  EXPECT_EQ(payload[0]["labels"]["severity"], "warning");
  EXPECT_EQ(payload[0]["endsAt"], "2026-09-21T14:13:21.000Z") << "ended now";
  EXPECT_EQ(payload[1]["labels"]["severity"], "critical");
  EXPECT_EQ(feed.Payload(kNow + 2000).size(), 1u) << "sent once";
}

TEST(PagerDutyFeedTest, AnIncidentIsResolvedHoweverLongItsResolveWaited) {
  AlertmanagerFeed stream({.resolved_keep_millis = 60000});
  PagerDutyFeed pagerduty("key", 60000);
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_FIRING, false)));
  auto events = pagerduty.Pending(stream.latest(), kNow);
  ASSERT_EQ(events.size(), 1u);
  pagerduty.Delivered(events[0]);
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_RESOLVED, false, kNow)));
  stream.Payload(kNow + 10 * 60000);  // PagerDuty unreachable meanwhile; the stream view forgets
  ASSERT_EQ(stream.known(), 0u);
  events = pagerduty.Pending(stream.latest(), kNow + 10 * 60000);
  ASSERT_EQ(Actions(events), (std::vector<std::string>{"resolve"}));
  pagerduty.Delivered(events[0]);
  EXPECT_TRUE(pagerduty.Pending(stream.latest(), kNow + 10 * 60000).empty());
}

TEST(AlertmanagerFeedTest, RecordsThatAreNotKamAlertsChangeNothing) {
  AlertmanagerFeed feed({});
  EXPECT_FALSE(feed.Apply("not json"));
  EXPECT_FALSE(feed.Apply(R"({"source":"someone-else","data":{"fingerprint":"x"}})"));
  EXPECT_FALSE(feed.Apply(R"({"source":"kam-alerts","data":{}})"));
  EXPECT_EQ(feed.known(), 0u);
}

TEST(PagerDutyFeedTest, DeliversWhatClosesTheGapBetweenWhatWasSentAndTheStream) {
  AlertmanagerFeed stream({});
  PagerDutyFeed pagerduty("key", 15 * 60000);
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_ACKNOWLEDGED, false)));
  auto events = pagerduty.Pending(stream.latest(), kNow);
  EXPECT_EQ(Actions(events), (std::vector<std::string>{"trigger", "acknowledge"}))
      << "an alert acknowledged before it was ever sent is triggered first";
  EXPECT_EQ(events[0].body["dedup_key"], "fp");
  EXPECT_EQ(events[0].body["payload"]["severity"], "warning");
  EXPECT_EQ(events[0].body["routing_key"], "key");
  pagerduty.Delivered(events[0]);
  EXPECT_EQ(Actions(pagerduty.Pending(stream.latest(), kNow)),
            (std::vector<std::string>{"acknowledge"}))
      << "what failed is handed out again";
  pagerduty.Delivered(events[1]);
  EXPECT_TRUE(pagerduty.Pending(stream.latest(), kNow).empty());
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_RESOLVED, false, kNow)));
  events = pagerduty.Pending(stream.latest(), kNow);
  EXPECT_EQ(Actions(events), (std::vector<std::string>{"resolve"}));
  EXPECT_FALSE(events[0].body.contains("payload"));
  pagerduty.Delivered(events[0]);
  EXPECT_TRUE(pagerduty.Pending(stream.latest(), kNow).empty());
}

TEST(PagerDutyFeedTest, SuppressedAlertsPageNobodyAndOldResolutionsAreNotRepeated) {
  AlertmanagerFeed stream({});
  PagerDutyFeed pagerduty("key", 15 * 60000);
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_FIRING, true)));
  EXPECT_TRUE(pagerduty.Pending(stream.latest(), kNow).empty());
  ASSERT_TRUE(stream.Apply(Event(kam::v1::ALERT_STATE_RESOLVED, false, kNow)));
  EXPECT_TRUE(pagerduty.Pending(stream.latest(), kNow + 16 * 60000).empty())
      << "after a restart, a resolution older than the keep period is not sent again";
}

}  // namespace
}  // namespace kam::bridge
