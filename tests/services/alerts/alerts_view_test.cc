#include "services/alerts/alerts_view.h"

#include <gtest/gtest.h>

#include "common/store.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {
namespace {

// Changelog records as the tasks write them: "<cf>\0<partition><key>".
std::string AlertKey(int32_t task, const std::string& id) {
  return std::string(kAlertsCf) + std::string(1, '\0') + PartKey(task, id);
}
std::string ChangeKey(int32_t task, uint64_t sequence) {
  return std::string(kChangesCf) + std::string(1, '\0') + Partition(task) + EncodeUint64(sequence);
}

kam::v1::Alert MakeAlert(const std::string& id, kam::v1::AlertState state, int etag) {
  kam::v1::Alert alert;
  alert.set_id(id);
  alert.set_account_id("acc-" + id);
  alert.set_state(state);
  alert.set_etag(std::to_string(etag));
  alert.mutable_start_time()->set_seconds(1000 + etag);
  return alert;
}

class AlertsViewTest : public ::testing::Test {
 protected:
  // Task `task` changes alert `id` to `state`: the alert record and the change record.
  void Change(int32_t task, uint64_t sequence, const std::string& id, kam::v1::AlertState state,
              kam::v1::AlertChangeKind kind) {
    kam::v1::Alert alert = MakeAlert(id, state, static_cast<int>(sequence));
    view_.Apply(task, AlertKey(task, id), alert.SerializeAsString());
    kam::v1::AlertChange change;
    change.set_kind(kind);
    *change.mutable_alert() = alert;
    view_.Apply(task, ChangeKey(task, sequence), change.SerializeAsString());
  }
  std::vector<std::string> ReadAll(AlertsView::Cursor* cursor) {
    std::vector<std::string> read;
    while (true) {
      auto changes = view_.Read(cursor, 2);
      EXPECT_TRUE(changes.ok()) << changes.status();
      if (!changes.ok() || changes->empty()) return read;
      for (const auto& change : *changes) {
        read.push_back(change.alert().id() + ":" + kam::v1::AlertChangeKind_Name(change.kind()));
      }
    }
  }

  AlertsView view_{PageTokens("secret"), 4};
};

TEST_F(AlertsViewTest, HoldsEveryTasksAlertsAndListsThemNewestFirst) {
  Change(0, 1, "a", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  Change(2, 1, "b", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  Change(0, 2, "a", kam::v1::ALERT_STATE_RESOLVED, kam::v1::ALERT_CHANGE_KIND_RESOLVED);
  kam::v1::GetAlertRequest get;
  get.set_id("a");
  EXPECT_EQ(view_.Get(get)->state(), kam::v1::ALERT_STATE_RESOLVED);
  EXPECT_EQ(view_.Find("b")->first, 2);
  get.set_id("nope");
  EXPECT_EQ(view_.Get(get).status().code(), absl::StatusCode::kNotFound);
  kam::v1::ListAlertsRequest list;
  list.set_state(kam::v1::ALERT_STATE_FIRING);
  auto firing = view_.List(list);
  ASSERT_TRUE(firing.ok());
  ASSERT_EQ(firing->alerts_size(), 1);
  EXPECT_EQ(firing->alerts(0).id(), "b");
  list.set_state(static_cast<kam::v1::AlertState>(99));
  EXPECT_EQ(view_.List(list).status().code(), absl::StatusCode::kInvalidArgument);
  // A deleted alert record leaves the view.
  view_.Apply(2, AlertKey(2, "b"), std::nullopt);
  EXPECT_FALSE(view_.Find("b").has_value());
}

// A token names the last change per task, so a reader continues on any instance, whatever order
// that instance received the tasks' changes in.
TEST_F(AlertsViewTest, AResumeTokenContinuesOnAViewThatSawTheTasksInAnotherOrder) {
  Change(0, 1, "a", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  Change(1, 1, "b", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  auto cursor = view_.After("");
  ASSERT_TRUE(cursor.ok());
  auto first = view_.Read(&*cursor, 1);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  const std::string token = first->at(0).resume_token();
  EXPECT_EQ(token, "v1:0=1");

  AlertsView other(PageTokens("secret"), 4);  // got task 1's change first
  for (auto [task, sequence, id] : {std::tuple{1, 1, "b"}, std::tuple{0, 1, "a"}}) {
    kam::v1::AlertChange change;
    change.set_kind(kam::v1::ALERT_CHANGE_KIND_FIRED);
    *change.mutable_alert() = MakeAlert(id, kam::v1::ALERT_STATE_FIRING, 1);
    other.Apply(task, ChangeKey(task, sequence), change.SerializeAsString());
  }
  auto resumed = other.After(token);
  ASSERT_TRUE(resumed.ok());
  auto rest = other.Read(&*resumed, 10);
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->size(), 1u);
  EXPECT_EQ(rest->at(0).alert().id(), "b");
  EXPECT_EQ(rest->at(0).resume_token(), "v1:0=1,1=1");

  EXPECT_EQ(view_.After("17").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(view_.After("v1:0=x").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(AlertsViewTest, ReplayedChangesAreNotDeliveredTwice) {
  Change(0, 1, "a", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  Change(0, 1, "a", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  auto cursor = view_.After("");
  EXPECT_EQ(ReadAll(&*cursor), (std::vector<std::string>{"a:ALERT_CHANGE_KIND_FIRED"}));
  EXPECT_EQ(view_.changes_total(), 1u);
}

// The view keeps the newest changes only (4 here): a token from before them is refused with the
// way out, a reader from the start begins with the oldest kept, a live reader gets new ones only.
TEST_F(AlertsViewTest, TokensOlderThanTheKeptHistoryAreRefusedClearly) {
  auto live = view_.Latest();
  for (uint64_t s = 1; s <= 6; ++s) {
    Change(0, s, "a" + std::to_string(s), kam::v1::ALERT_STATE_FIRING,
           kam::v1::ALERT_CHANGE_KIND_FIRED);
  }
  auto old = view_.After("v1:0=1");
  ASSERT_EQ(old.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(old.status().message().find("live_only"), std::string::npos);
  auto from_start = view_.After("");
  ASSERT_TRUE(from_start.ok());
  EXPECT_EQ(ReadAll(&*from_start).size(), 4u);
  // A reader that fell behind while the oldest changes were dropped is told so.
  EXPECT_EQ(view_.Read(&live, 10).status().code(), absl::StatusCode::kFailedPrecondition);
  auto now = view_.Latest();
  Change(0, 7, "a7", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  EXPECT_EQ(ReadAll(&now), (std::vector<std::string>{"a7:ALERT_CHANGE_KIND_FIRED"}));
}

TEST_F(AlertsViewTest, WatchersAreToldOfNewChangesAndAwaitSeesAnEtag) {
  int told = 0;
  const int watcher = view_.Subscribe([&] { ++told; });
  Change(0, 1, "a", kam::v1::ALERT_STATE_FIRING, kam::v1::ALERT_CHANGE_KIND_FIRED);
  EXPECT_EQ(told, 1);
  EXPECT_TRUE(view_.AwaitEtag("a", "1", std::chrono::milliseconds(0)));
  EXPECT_FALSE(view_.AwaitEtag("a", "2", std::chrono::milliseconds(10)));
  view_.Unsubscribe(watcher);
  Change(0, 2, "a", kam::v1::ALERT_STATE_RESOLVED, kam::v1::ALERT_CHANGE_KIND_RESOLVED);
  EXPECT_EQ(told, 1);
}

TEST_F(AlertsViewTest, ACommandsResultReachesTheCallerWaitingForIt) {
  EXPECT_FALSE(view_.AwaitResult("cmd-1", std::chrono::milliseconds(5)).has_value());
  kam::internal::v1::AlertCommandResult result;
  result.set_command_id("cmd-1");
  result.set_wall_millis(1000);
  result.set_code(static_cast<int>(absl::StatusCode::kFailedPrecondition));
  const std::string key = std::string(kCommandResultsCf) + std::string(1, '\0') + Partition(1) +
                          EncodeUint64(1000) + "cmd-1";
  view_.Apply(1, key, result.SerializeAsString());
  auto got = view_.AwaitResult("cmd-1", std::chrono::milliseconds(0));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->code(), static_cast<int>(absl::StatusCode::kFailedPrecondition));
  view_.Apply(1, key, std::nullopt);  // expired in the task
  EXPECT_FALSE(view_.AwaitResult("cmd-1", std::chrono::milliseconds(0)).has_value());
}

}  // namespace
}  // namespace kam::alerts
