// The alert lifecycle as a pure function, and the typed timer key: examples of what a person
// following an alert sees (fired, escalated, resolved, a new instance) and what a client holding
// an etag may rely on.

#include "services/alerts/lifecycle.h"

#include <gtest/gtest.h>

#include "services/alerts/timer_key.h"

namespace kam::alerts {
namespace {

const AlertSubject kSubject{kam::v1::ALERT_RULE_SATISFACTION_FALLING, "fp1", "acc_1", "mgr_1"};

Desired Open(kam::v1::Severity severity, const std::string& summary) {
  Desired desired;
  desired.open = true;
  desired.severity = severity;
  desired.summary = summary;
  desired.evidence = {{"drop", summary}};
  return desired;
}

TEST(LifecycleTest, FiresEscalatesAndResolvesWithOneChangeEach) {
  auto fired = NextAlert(std::nullopt, kSubject, Open(kam::v1::SEVERITY_WARNING, "15 points"), 10);
  ASSERT_TRUE(fired);
  EXPECT_EQ(fired->kind, kam::v1::ALERT_CHANGE_KIND_FIRED);
  EXPECT_EQ(fired->alert.id(), "fp1-1");
  EXPECT_EQ(fired->alert.etag(), "1");
  EXPECT_EQ(fired->alert.state(), kam::v1::ALERT_STATE_FIRING);

  auto escalated = NextAlert(fired->alert, kSubject, Open(kam::v1::SEVERITY_CRITICAL, "31"), 20);
  ASSERT_TRUE(escalated);
  EXPECT_EQ(escalated->kind, kam::v1::ALERT_CHANGE_KIND_SEVERITY_CHANGED);
  EXPECT_EQ(escalated->alert.etag(), "2");

  auto resolved = NextAlert(escalated->alert, kSubject, Desired{}, 30);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->kind, kam::v1::ALERT_CHANGE_KIND_RESOLVED);
  EXPECT_EQ(resolved->alert.state(), kam::v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(resolved->alert.etag(), "3");
  EXPECT_EQ(resolved->alert.summary(), "31") << "a resolved alert keeps what it said last";

  EXPECT_FALSE(NextAlert(resolved->alert, kSubject, Desired{}, 40)) << "nothing open, no write";
  auto again = NextAlert(resolved->alert, kSubject, Open(kam::v1::SEVERITY_WARNING, "16"), 50);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->kind, kam::v1::ALERT_CHANGE_KIND_FIRED);
  EXPECT_EQ(again->alert.id(), "fp1-2") << "a new instance after a resolution";
}

// A re-evaluation that changes neither state nor severity publishes nothing, so the etag a client
// saw last stays valid for AcknowledgeAlert (issue: it used to change and the ack was ABORTED).
TEST(LifecycleTest, ANewSummaryWithoutAChangeKeepsTheEtag) {
  auto fired = NextAlert(std::nullopt, kSubject, Open(kam::v1::SEVERITY_WARNING, "15"), 10);
  auto same = NextAlert(fired->alert, kSubject, Open(kam::v1::SEVERITY_WARNING, "18"), 20);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->kind, kam::v1::ALERT_CHANGE_KIND_UNSPECIFIED);
  EXPECT_EQ(same->alert.etag(), fired->alert.etag());
  EXPECT_EQ(same->alert.summary(), "18");
}

TEST(LifecycleTest, AcknowledgingBumpsTheEtagAndKeepsTheAlertOpen) {
  auto fired = NextAlert(std::nullopt, kSubject, Open(kam::v1::SEVERITY_WARNING, "15"), 10);
  auto acknowledged = Acknowledged(fired->alert, "lead@example.com", 99);
  EXPECT_EQ(acknowledged.state(), kam::v1::ALERT_STATE_ACKNOWLEDGED);
  EXPECT_EQ(acknowledged.etag(), "2");
  EXPECT_EQ(acknowledged.acknowledged_by(), "lead@example.com");
  auto resolved = NextAlert(acknowledged, kSubject, Desired{}, 120);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->kind, kam::v1::ALERT_CHANGE_KIND_RESOLVED);
}

TEST(LifecycleTest, AnUnreadableEtagOrIdDoesNotThrow) {
  kam::v1::Alert odd;
  odd.set_id("fp1-x");
  odd.set_fingerprint("fp1");
  odd.set_etag("not a number");
  odd.set_state(kam::v1::ALERT_STATE_FIRING);
  auto resolved = NextAlert(odd, kSubject, Desired{}, 5);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->alert.etag(), "1");
  odd.set_state(kam::v1::ALERT_STATE_RESOLVED);
  auto fired = NextAlert(odd, kSubject, Open(kam::v1::SEVERITY_WARNING, "s"), 6);
  EXPECT_EQ(fired->alert.id(), "fp1-1");
}

TEST(TimerKeyTest, EncodesInPartitionThenDueOrderAndDecodesBack) {
  TimerKey request{.partition = 2,
                   .due_millis = 1'790'000'000'000,
                   .kind = TimerKind::kResponseDue,
                   .account_id = "acc_1",
                   .interaction_id = "int_9"};
  TimerKey contact{.partition = 2,
                   .due_millis = 1'790'000'000'001,
                   .kind = TimerKind::kNoContactDue,
                   .account_id = "acc_0"};
  EXPECT_LT(request.Encode(), contact.Encode()) << "earlier due time first, whatever the account";
  EXPECT_EQ(request.Encode().substr(0, 4), TimerKey::PartitionPrefix(2));
  auto decoded = TimerKey::Decode(request.Encode());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->partition, 2);
  EXPECT_EQ(decoded->due_millis, request.due_millis);
  EXPECT_EQ(decoded->kind, TimerKind::kResponseDue);
  EXPECT_EQ(decoded->account_id, "acc_1");
  EXPECT_EQ(decoded->interaction_id, "int_9");
  auto other = TimerKey::Decode(contact.Encode());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->kind, TimerKind::kNoContactDue);
  EXPECT_FALSE(TimerKey::Decode("short"));
  EXPECT_FALSE(TimerKey::Decode(TimerKey::PartitionPrefix(0) + std::string(8, '\0') + "x|acc"));
}

}  // namespace
}  // namespace kam::alerts
