#include "services/interactions/health.h"

#include <algorithm>
#include <cmath>

#include "common/time_util.h"

namespace kam::interactions {

using kam::internal::v1::AccountHealthState;
using kam::v1::InteractionType;

void ApplyInteraction(const kam::v1::Interaction& interaction, AccountHealthState* state,
                      const HealthPolicy& policy) {
  const int64_t at = MillisFromTimestamp(interaction.occur_time());
  state->set_account_id(interaction.account_id());
  if (IsContact(interaction.type()) &&
      (!state->has_last_contact_time() || MillisFromTimestamp(state->last_contact_time()) < at)) {
    *state->mutable_last_contact_time() = interaction.occur_time();
  }
  if (interaction.type() == kam::v1::INTERACTION_TYPE_SURVEY) {
    kam::internal::v1::SatisfactionAnswer answer;
    *answer.mutable_occur_time() = interaction.occur_time();
    answer.set_score(NormalisedScore(interaction.survey()));
    answer.set_interaction_id(interaction.id());
    answer.set_nps(interaction.survey().has_nps() ? interaction.survey().nps() : -1);
    answer.set_csat(interaction.survey().has_csat() ? interaction.survey().csat() : -1);
    auto* answers = state->mutable_answers();
    // Insert after every answer at or before this time: arrival order breaks ties.
    const auto index = std::upper_bound(answers->begin(), answers->end(), at,
                                        [](int64_t t, const auto& a) {
                                          return t < MillisFromTimestamp(a.occur_time());
                                        }) -
                       answers->begin();
    answers->Add(std::move(answer));  // may reallocate: position by index, not iterator
    for (int i = answers->size() - 1; i > index; --i) answers->SwapElements(i, i - 1);
    if (answers->size() > policy.max_answers) {
      answers->DeleteSubrange(0, answers->size() - policy.max_answers);
    }
  }
  auto close = [&](int64_t opened, int64_t resolved) {
    state->add_handling_millis(std::max<int64_t>(0, resolved - opened));
    state->set_closed_requests(state->closed_requests() + 1);
  };
  if (IsRequest(interaction.type())) {
    auto* early = state->mutable_early_resolutions();
    auto waiting = std::find_if(early->begin(), early->end(), [&](const auto& resolution) {
      return resolution.request_id() == interaction.id();
    });
    if (waiting != early->end()) {
      // Resolved before it arrived: it never opens.
      close(at, MillisFromTimestamp(waiting->resolve_time()));
      early->erase(waiting);
    } else {
      auto* open = state->add_open_requests();
      open->set_interaction_id(interaction.id());
      open->set_type(interaction.type());
      *open->mutable_open_time() = interaction.occur_time();
    }
  }
  if (interaction.type() == kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED) {
    auto* open = state->mutable_open_requests();
    bool resolved = false;
    for (int i = 0; i < open->size(); ++i) {
      if (open->Get(i).interaction_id() != interaction.resolves_interaction_id()) continue;
      close(MillisFromTimestamp(open->Get(i).open_time()), at);
      open->DeleteSubrange(i, 1);
      resolved = true;
      break;
    }
    if (!resolved) {
      auto* early = state->add_early_resolutions();
      early->set_request_id(interaction.resolves_interaction_id());
      *early->mutable_resolve_time() = interaction.occur_time();
      if (state->early_resolutions_size() > policy.max_early_resolutions) {
        state->mutable_early_resolutions()->DeleteSubrange(
            0, state->early_resolutions_size() - policy.max_early_resolutions);
      }
    }
    if (state->handling_millis_size() > policy.max_handling_samples) {
      state->mutable_handling_millis()->erase(
          state->mutable_handling_millis()->begin(),
          state->mutable_handling_millis()->begin() +
              (state->handling_millis_size() - policy.max_handling_samples));
    }
  }
}

const kam::internal::v1::EarlyResolution* FindEarlyResolution(const AccountHealthState& state,
                                                              const std::string& request_id) {
  for (const auto& early : state.early_resolutions()) {
    if (early.request_id() == request_id) return &early;
  }
  return nullptr;
}

const kam::internal::v1::OpenRequestState* FindOpenRequest(const AccountHealthState& state,
                                                           const std::string& interaction_id) {
  for (const auto& open : state.open_requests()) {
    if (open.interaction_id() == interaction_id) return &open;
  }
  return nullptr;
}

double Slope(const std::vector<double>& values) {
  const size_t n = values.size();
  if (n < 2) return 0;
  double mean_x = (n - 1) / 2.0;
  double mean_y = 0;
  for (double v : values) mean_y += v;
  mean_y /= n;
  double num = 0;
  double den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (i - mean_x) * (values[i] - mean_y);
    den += (i - mean_x) * (i - mean_x);
  }
  return num / den;
}

int64_t Percentile(std::vector<int64_t> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t rank = static_cast<size_t>(std::ceil(q * values.size()));
  return values[std::clamp<size_t>(rank, 1, values.size()) - 1];
}

namespace {
google::protobuf::Duration DurationFromMillis(int64_t millis) {
  google::protobuf::Duration d;
  d.set_seconds(millis / 1000);
  d.set_nanos(static_cast<int32_t>((millis % 1000) * 1000000));
  return d;
}
}  // namespace

kam::v1::AccountHealth BuildHealth(const AccountHealthState& state, int64_t now_millis,
                                   const HealthPolicy& policy) {
  kam::v1::AccountHealth health;
  health.set_account_id(state.account_id());
  *health.mutable_nps_window() = DurationFromMillis(policy.nps_window_millis);
  int promoters = 0, detractors = 0, nps_count = 0, csat_count = 0;
  double csat_sum = 0;
  for (const auto& answer : state.answers()) {
    int64_t at = MillisFromTimestamp(answer.occur_time());
    if (at < now_millis - policy.nps_window_millis || at > now_millis) continue;
    if (answer.nps() >= 0) {
      ++nps_count;
      promoters += answer.nps() >= 9;
      detractors += answer.nps() <= 6;
    }
    if (answer.csat() >= 0) {
      ++csat_count;
      csat_sum += answer.csat();
    }
  }
  health.set_nps_responses(nps_count);
  health.set_nps(nps_count > 0 ? 100.0 * (promoters - detractors) / nps_count : 0);
  health.set_csat_responses(csat_count);
  health.set_csat_average(csat_count > 0 ? csat_sum / csat_count : 0);

  std::vector<double> last;
  int first = std::max(0, state.answers_size() - policy.trend_answers);
  for (int i = first; i < state.answers_size(); ++i) last.push_back(state.answers(i).score());
  health.set_trend(Slope(last));
  for (int i = std::max(0, state.answers_size() - policy.recent_answers); i < state.answers_size();
       ++i) {
    auto* point = health.add_recent_answers();
    *point->mutable_occur_time() = state.answers(i).occur_time();
    point->set_score(state.answers(i).score());
    point->set_interaction_id(state.answers(i).interaction_id());
  }
  if (state.has_last_contact_time())
    *health.mutable_last_contact_time() = state.last_contact_time();
  for (const auto& open : state.open_requests()) {
    auto* request = health.add_open_requests();
    request->set_interaction_id(open.interaction_id());
    request->set_type(static_cast<kam::v1::InteractionType>(open.type()));
    *request->mutable_open_time() = open.open_time();
    *request->mutable_age() = DurationFromMillis(
        std::max<int64_t>(0, now_millis - MillisFromTimestamp(open.open_time())));
  }
  std::vector<int64_t> handled(state.handling_millis().begin(), state.handling_millis().end());
  *health.mutable_handling_time_p50() = DurationFromMillis(Percentile(handled, 0.5));
  *health.mutable_handling_time_p90() = DurationFromMillis(Percentile(handled, 0.9));
  *health.mutable_handling_time_benchmark() = DurationFromMillis(policy.handling_benchmark_millis);
  health.set_closed_requests(state.closed_requests());
  return health;
}

}  // namespace kam::interactions
