#include "services/interactions/health.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace kam::interactions {
namespace {

using kam::internal::v1::AccountHealthState;
using kam::v1::Interaction;

constexpr int64_t kDay = 24LL * 3600 * 1000;
constexpr int64_t kNow = 1'800'000'000'000;  // a fixed "now" in 2027

Interaction Survey(const std::string& id, int64_t at, int nps = -1, int csat = -1) {
  Interaction interaction;
  interaction.set_id(id);
  interaction.set_account_id("acc");
  interaction.set_type(kam::v1::INTERACTION_TYPE_SURVEY);
  *interaction.mutable_occur_time() = TimestampFromMillis(at);
  if (nps >= 0) interaction.mutable_survey()->set_nps(nps);
  if (csat >= 0) interaction.mutable_survey()->set_csat(csat);
  return interaction;
}

Interaction Of(kam::v1::InteractionType type, const std::string& id, int64_t at,
               const std::string& resolves = "") {
  Interaction interaction;
  interaction.set_id(id);
  interaction.set_account_id("acc");
  interaction.set_type(type);
  *interaction.mutable_occur_time() = TimestampFromMillis(at);
  interaction.set_resolves_interaction_id(resolves);
  return interaction;
}

TEST(HealthTest, NpsIsPromotersMinusDetractorsOverTheWindow) {
  AccountHealthState state;
  HealthPolicy policy;
  // 10, 9 promoters; 8, 7 passives; 6, 0 detractors; one answer outside the 90-day window.
  int scores[] = {10, 9, 8, 7, 6, 0};
  for (int i = 0; i < 6; ++i) {
    ApplyInteraction(Survey("s" + std::to_string(i), kNow - i * kDay, scores[i]), &state, policy);
  }
  ApplyInteraction(Survey("old", kNow - 200 * kDay, 0), &state, policy);
  auto health = BuildHealth(state, kNow, policy);
  EXPECT_EQ(health.nps_responses(), 6);
  EXPECT_DOUBLE_EQ(health.nps(), 0.0);  // 2 promoters - 2 detractors
  ApplyInteraction(Survey("s7", kNow, 10), &state, policy);
  EXPECT_NEAR(BuildHealth(state, kNow, policy).nps(), 100.0 * (3 - 2) / 7, 1e-9);
}

TEST(HealthTest, CsatAverageAndNormalisedScores) {
  AccountHealthState state;
  HealthPolicy policy;
  ApplyInteraction(Survey("a", kNow - 2 * kDay, -1, 5), &state, policy);
  ApplyInteraction(Survey("b", kNow - kDay, -1, 2), &state, policy);
  auto health = BuildHealth(state, kNow, policy);
  EXPECT_EQ(health.csat_responses(), 2);
  EXPECT_DOUBLE_EQ(health.csat_average(), 3.5);
  ASSERT_EQ(health.recent_answers_size(), 2);
  EXPECT_DOUBLE_EQ(health.recent_answers(0).score(), 100);  // CSAT 5 -> (5-1) x 25
  EXPECT_DOUBLE_EQ(health.recent_answers(1).score(), 25);
}

TEST(HealthTest, TrendFallsForASlidingCustomerAndIsFlatForASteadyOne) {
  HealthPolicy policy;
  AccountHealthState sliding;
  int answers[] = {9, 9, 8, 6, 4, 3};
  for (int i = 0; i < 6; ++i) {
    ApplyInteraction(Survey("s" + std::to_string(i), kNow - (6 - i) * 7 * kDay, answers[i]),
                     &sliding, policy);
  }
  EXPECT_LT(BuildHealth(sliding, kNow, policy).trend(), -10);
  AccountHealthState steady;
  int steady_answers[] = {9, 9, 9, 10, 9};
  for (int i = 0; i < 5; ++i) {
    ApplyInteraction(Survey("s" + std::to_string(i), kNow - (5 - i) * 7 * kDay, steady_answers[i]),
                     &steady, policy);
  }
  EXPECT_NEAR(BuildHealth(steady, kNow, policy).trend(), 1.0, 1.0);
}

TEST(HealthTest, OutOfOrderAnswersLandAtTheirEventTime) {
  HealthPolicy policy;
  AccountHealthState in_order, shuffled;
  int answers[] = {9, 8, 6, 4};
  for (int i = 0; i < 4; ++i) {
    ApplyInteraction(Survey("s" + std::to_string(i), kNow - (4 - i) * kDay, answers[i]), &in_order,
                     policy);
  }
  for (int i : {2, 0, 3, 1}) {
    ApplyInteraction(Survey("s" + std::to_string(i), kNow - (4 - i) * kDay, answers[i]), &shuffled,
                     policy);
  }
  auto a = BuildHealth(in_order, kNow, policy);
  auto b = BuildHealth(shuffled, kNow, policy);
  EXPECT_DOUBLE_EQ(a.trend(), b.trend());
  ASSERT_EQ(b.recent_answers_size(), 4);
  EXPECT_EQ(b.recent_answers(0).interaction_id(), "s0");
  EXPECT_EQ(b.recent_answers(3).interaction_id(), "s3");
}

TEST(HealthTest, RequestsOpenUntilResolvedWithHandlingPercentiles) {
  HealthPolicy policy;
  AccountHealthState state;
  const int64_t hour = 3600 * 1000;
  int64_t handled_hours[] = {1, 5, 10, 20, 30, 40, 50, 60, 70, 100};
  for (int i = 0; i < 10; ++i) {
    std::string id = "r" + std::to_string(i);
    ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST, id, kNow - 10 * kDay), &state,
                     policy);
    ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED, "x" + id,
                        kNow - 10 * kDay + handled_hours[i] * hour, id),
                     &state, policy);
  }
  ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_COMPLAINT, "open", kNow - 3 * kDay), &state,
                   policy);
  auto health = BuildHealth(state, kNow, policy);
  EXPECT_EQ(health.closed_requests(), 10);
  EXPECT_EQ(health.handling_time_p50().seconds(), 30 * 3600);
  EXPECT_EQ(health.handling_time_p90().seconds(), 70 * 3600);
  EXPECT_EQ(health.handling_time_benchmark().seconds(), 2 * 24 * 3600);
  ASSERT_EQ(health.open_requests_size(), 1);
  EXPECT_EQ(health.open_requests(0).interaction_id(), "open");
  EXPECT_EQ(health.open_requests(0).age().seconds(), 3 * 24 * 3600);
  EXPECT_NE(FindOpenRequest(state, "open"), nullptr);
  EXPECT_EQ(FindOpenRequest(state, "r3"), nullptr);
}

TEST(HealthTest, LastContactIsTheLatestCompanyTouchpointEvenIfRecordedLate) {
  HealthPolicy policy;
  AccountHealthState state;
  ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_MEETING, "m2", kNow - kDay), &state, policy);
  ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_CALL, "c1", kNow - 5 * kDay), &state, policy);
  ApplyInteraction(Of(kam::v1::INTERACTION_TYPE_COMPLAINT, "k", kNow), &state, policy);
  EXPECT_EQ(MillisFromTimestamp(BuildHealth(state, kNow, policy).last_contact_time()), kNow - kDay);
}

TEST(HealthTest, SlopeAndPercentileEdges) {
  EXPECT_EQ(Slope({}), 0);
  EXPECT_EQ(Slope({5}), 0);
  EXPECT_DOUBLE_EQ(Slope({0, 10, 20}), 10);
  EXPECT_EQ(Percentile({}, 0.5), 0);
  EXPECT_EQ(Percentile({7}, 0.9), 7);
}

}  // namespace
}  // namespace kam::interactions
