// The CloudEvent of an alert change is valid JSON for every alert kam-alerts can hold: consumers
// of kam.alerts.v1 (kcat, the bridge, operations teams' own code) parse every record.

#include "services/alerts/cloud_event.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace kam::alerts {
namespace {

kam::v1::AlertChange Fired() {
  kam::v1::AlertChange change;
  change.set_kind(kam::v1::ALERT_CHANGE_KIND_FIRED);
  change.mutable_alert()->set_id("alt_1");
  change.mutable_alert()->set_etag("e1");
  change.mutable_alert()->set_fingerprint("f00d");
  change.mutable_alert()->mutable_start_time()->set_seconds(1800000000);
  return change;
}

TEST(CloudEventTest, AnAlertRendersWithItsDataAndAttributes) {
  const auto json = nlohmann::json::parse(RenderCloudEvent(Fired(), 2, 17, ""));
  EXPECT_EQ(json["specversion"], "1.0");
  EXPECT_EQ(json["id"], "alt_1/e1");
  EXPECT_EQ(json["type"], "dev.kam.alert.fired");
  EXPECT_EQ(json["kamtask"], "2");
  EXPECT_EQ(json["data"]["id"], "alt_1");
  EXPECT_FALSE(json.contains("kamdataerror"));
}

// Found by fuzz/cloud_event_fuzz.cc: a timestamp protobuf's JSON printer refuses (outside
// 0001-9999) left a half-written data member, so the whole event was not JSON.
TEST(CloudEventTest, AnAlertThatCannotBePrintedStillRendersValidJson) {
  kam::v1::AlertChange change = Fired();
  change.mutable_alert()->mutable_acknowledge_time()->set_seconds(-70000000000);
  const std::string event = RenderCloudEvent(change, 0, 1, "");
  const auto json = nlohmann::json::parse(event, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(json.is_discarded()) << event;
  EXPECT_EQ(json["id"], "alt_1/e1");
  EXPECT_TRUE(json["data"].is_null());
  EXPECT_NE(json["kamdataerror"].get<std::string>().find("Timestamp"), std::string::npos)
      << json["kamdataerror"];
}

// Seconds near the int64 limit overflowed a conversion to milliseconds (undefined behaviour,
// reported by UBSan when scripts/fuzz runs this test).
TEST(CloudEventTest, ATimestampNearTheLimitsOfInt64RendersWithoutOverflow) {
  for (int64_t seconds : {INT64_MAX, INT64_MIN, int64_t{9'300'000'000'000'000}}) {
    kam::v1::AlertChange change = Fired();
    change.mutable_alert()->mutable_update_time()->set_seconds(seconds);
    const std::string event = RenderCloudEvent(change, 0, 1, "");
    const auto json = nlohmann::json::parse(event, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(json.is_discarded()) << event;
    EXPECT_TRUE(json["time"].is_string()) << event;
  }
}

}  // namespace
}  // namespace kam::alerts
