#include "services/alerts/alert_writer.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "common/store.h"
#include "kam/internal/v1/commands.pb.h"
#include "services/alerts/alert_store.h"

namespace kam::alerts {
namespace {

// The calling side of AcknowledgeAlert: what it sends where, and how it answers. The "owner" here
// is the test, writing results into the view as the changelog would.
class AlertWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    kam::v1::Alert alert;
    alert.set_id("alert-1");
    alert.set_state(kam::v1::ALERT_STATE_FIRING);
    alert.set_etag("3");
    view_.Apply(2, std::string(kAlertsCf) + std::string(1, '\0') + PartKey(2, "alert-1"),
                alert.SerializeAsString());
  }
  // Answers the last command sent with `code` (OK: the alert acknowledged at etag 4).
  void Answer(absl::StatusCode code) {
    kam::internal::v1::AlertCommand command;
    ASSERT_TRUE(command.ParseFromString(sent_.back().value));
    kam::internal::v1::AlertCommandResult result;
    result.set_command_id(command.command_id());
    result.set_wall_millis(command.wall_millis());
    result.set_code(static_cast<int>(code));
    result.set_message("from the owner");
    kam::v1::Alert acknowledged;
    acknowledged.set_id("alert-1");
    acknowledged.set_state(kam::v1::ALERT_STATE_ACKNOWLEDGED);
    acknowledged.set_etag("4");
    if (code == absl::StatusCode::kOk) {
      *result.mutable_alert() = acknowledged;
      view_.Apply(2, std::string(kAlertsCf) + std::string(1, '\0') + PartKey(2, "alert-1"),
                  acknowledged.SerializeAsString());
    }
    view_.Apply(2,
                std::string(kCommandResultsCf) + std::string(1, '\0') + Partition(2) +
                    EncodeUint64(static_cast<uint64_t>(command.wall_millis())) +
                    command.command_id(),
                result.SerializeAsString());
  }
  kam::v1::AcknowledgeAlertRequest Request() {
    kam::v1::AcknowledgeAlertRequest request;
    request.set_id("alert-1");
    request.set_acknowledged_by("lead@example.com");
    return request;
  }

  struct Sent {
    int32_t task;
    std::string key;
    std::string value;
  };
  AlertsView view_{PageTokens("secret"), 100};
  SilenceBook silences_;
  std::vector<Sent> sent_;
  // The owner answers (on another thread, like the changelog follower) when `answer_` is set.
  std::optional<absl::StatusCode> answer_;
  AlertWriter writer_{
      &view_, &silences_,
      [this](int32_t task, const std::string& key, const std::string& value) {
        sent_.push_back({task, key, value});
        if (answer_) std::thread([this, code = *answer_] { Answer(code); }).detach();
        return absl::OkStatus();
      },
      [] { return int64_t{1'790'000'000'000}; }, std::chrono::milliseconds(2000)};
};

TEST_F(AlertWriterTest, BadOrUnknownRequestsAreAnsweredWithoutSendingAnything) {
  auto request = Request();
  request.clear_acknowledged_by();
  EXPECT_EQ(writer_.Acknowledge(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request = Request();
  request.set_id("");
  EXPECT_EQ(writer_.Acknowledge(request).status().code(),
            absl::StatusCode::kInvalidArgument);
  request = Request();
  request.set_id("no-such-alert");
  auto unknown = writer_.Acknowledge(request);
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("no-such-alert"), std::string::npos);
  EXPECT_TRUE(sent_.empty());
}

TEST_F(AlertWriterTest, TheCommandGoesToTheAlertsTaskAndItsResultIsTheAnswer) {
  answer_ = absl::StatusCode::kOk;
  auto acknowledged = writer_.Acknowledge(Request());
  ASSERT_TRUE(acknowledged.ok()) << acknowledged.status();
  EXPECT_EQ(acknowledged->state(), kam::v1::ALERT_STATE_ACKNOWLEDGED);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].task, 2) << "partition = the task that owns the alert";
  EXPECT_EQ(sent_[0].key, "alert-1");
  kam::internal::v1::AlertCommand command;
  ASSERT_TRUE(command.ParseFromString(sent_[0].value));
  EXPECT_EQ(command.acknowledge().acknowledged_by(), "lead@example.com");
  EXPECT_EQ(command.wall_millis(), 1'790'000'000'000);
  kam::v1::GetAlertRequest get;
  get.set_id("alert-1");
  EXPECT_EQ(view_.Get(get)->etag(), "4") << "read your own write";

  answer_ = absl::StatusCode::kAborted;  // the owner refuses the next one
  auto refused = writer_.Acknowledge(Request());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(refused.status().message(), "from the owner");
}

TEST_F(AlertWriterTest, NoAnswerInTimeIsUnavailableAndSaysTheCommandStaysQueued) {
  AlertWriter impatient(
      &view_, &silences_, [](int32_t, const std::string&, const std::string&) { return absl::OkStatus(); },
      [] { return int64_t{1}; }, std::chrono::milliseconds(20));
  auto status = impatient.Acknowledge(Request()).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("queued for task 2"), std::string::npos) << status;
  AlertWriter failing(
      &view_, &silences_,
      [](int32_t, const std::string&, const std::string&) {
        return absl::UnavailableError("broker down");
      },
      [] { return int64_t{1}; }, std::chrono::milliseconds(20));
  EXPECT_EQ(failing.Acknowledge(Request()).status().message(), "broker down");
}

}  // namespace
}  // namespace kam::alerts
