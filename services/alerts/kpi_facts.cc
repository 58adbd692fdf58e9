#include "services/alerts/kpi_facts.h"

#include <algorithm>

#include "common/interaction_kinds.h"
#include "common/time_util.h"

namespace kam::alerts {

using kam::internal::v1::AccountKpiState;

namespace {

constexpr int64_t kDayMillis = 24LL * 3600 * 1000;

template <typename List, typename Time>
void Prune(List* list, int64_t newest, Time time_of) {
  const int64_t oldest = newest - kKpiHistoryMillis;
  auto end = std::remove_if(list->begin(), list->end(),
                            [&](const auto& item) { return time_of(item) < oldest; });
  list->erase(end, list->end());
}

}  // namespace

absl::Status RecordAccountFacts(AlertTx& tx, int32_t p, const kam::v1::Account& account,
                                int64_t at_millis) {
  KAM_ASSIGN_OR_RETURN(AccountKpiState * state, tx.Kpis(p, account.id()));
  state->set_known(true);
  state->set_name(account.name());
  state->set_owner_manager_id(account.owner_manager_id());
  state->set_parent_account_id(account.parent_account_id());
  state->set_revenue_share(account.revenue_share());
  if (account.has_create_time())
    state->set_create_millis(MillisFromTimestamp(account.create_time()));
  if (account.has_close_time()) {
    state->set_close_millis(MillisFromTimestamp(account.close_time()));
  } else if (account.lifecycle_phase() == kam::v1::LIFECYCLE_PHASE_CHURNED) {
    state->set_close_millis(at_millis);
  }
  // A new revenue point only when the recorded revenue moved; from the time the record says it
  // was changed.
  const auto& revenue = account.annual_revenue();
  const auto* last = state->revenue_size() > 0 ? &*state->revenue().rbegin() : nullptr;
  if (last == nullptr || last->amount_minor() != revenue.amount_minor() ||
      last->currency() != revenue.currency()) {
    auto* point = state->add_revenue();
    point->set_at_millis(account.has_update_time() ? MillisFromTimestamp(account.update_time())
                                                   : at_millis);
    point->set_amount_minor(revenue.amount_minor());
    point->set_currency(revenue.currency());
    // Keep the value in force at the start of the history: prune all but the newest old one.
    auto* points = state->mutable_revenue();
    const int64_t oldest = point->at_millis() - kKpiHistoryMillis;
    int first_kept = 0;
    while (first_kept + 1 < points->size() && points->Get(first_kept + 1).at_millis() < oldest) {
      ++first_kept;
    }
    if (first_kept > 0) points->DeleteSubrange(0, first_kept);
  }
  return absl::OkStatus();
}

absl::Status RecordInteractionFacts(AlertTx& tx, int32_t p, const kam::v1::Interaction& interaction,
                                    int64_t at_millis) {
  KAM_ASSIGN_OR_RETURN(AccountKpiState * state, tx.Kpis(p, interaction.account_id()));
  if (state->first_activity_millis() == 0 || at_millis < state->first_activity_millis()) {
    state->set_first_activity_millis(at_millis);
  }
  switch (interaction.type()) {
    case kam::v1::INTERACTION_TYPE_UPSELL:
    case kam::v1::INTERACTION_TYPE_CROSS_SELL:
    case kam::v1::INTERACTION_TYPE_RENEWAL: {
      auto* deal = state->add_deals();
      deal->set_at_millis(at_millis);
      deal->set_type(interaction.type());
      deal->set_amount_minor(interaction.amount().amount_minor());
      deal->set_currency(interaction.amount().currency());
      deal->set_interaction_id(interaction.id());
      Prune(state->mutable_deals(), at_millis, [](const auto& d) { return d.at_millis(); });
      break;
    }
    case kam::v1::INTERACTION_TYPE_SURVEY: {
      auto* answer = state->add_answers();
      answer->set_at_millis(at_millis);
      answer->set_nps(interaction.survey().has_nps() ? interaction.survey().nps() : -1);
      answer->set_csat(interaction.survey().has_csat() ? interaction.survey().csat() : -1);
      answer->set_interaction_id(interaction.id());
      Prune(state->mutable_answers(), at_millis, [](const auto& a) { return a.at_millis(); });
      break;
    }
    case kam::v1::INTERACTION_TYPE_COMPLAINT:
    case kam::v1::INTERACTION_TYPE_SUPPORT_REQUEST: {
      for (auto& request : *state->mutable_requests()) {
        if (request.interaction_id() != interaction.id()) continue;
        // Resolved before it arrived: now its handling time is known.
        if (request.open_millis() == 0) {
          request.set_open_millis(std::min(at_millis, request.close_millis()));
        }
        return absl::OkStatus();
      }
      auto* request = state->add_requests();
      request->set_interaction_id(interaction.id());
      request->set_open_millis(at_millis);
      // Open requests stay, however old; handled ones leave with the history.
      auto* requests = state->mutable_requests();
      const int64_t oldest = at_millis - kKpiHistoryMillis;
      requests->erase(std::remove_if(requests->begin(), requests->end(),
                                     [&](const auto& r) {
                                       return r.close_millis() > 0 && r.close_millis() < oldest;
                                     }),
                      requests->end());
      break;
    }
    case kam::v1::INTERACTION_TYPE_REQUEST_RESOLVED: {
      bool known = false;
      for (auto& request : *state->mutable_requests()) {
        if (request.interaction_id() != interaction.resolves_interaction_id()) continue;
        known = true;
        if (request.close_millis() == 0) {
          request.set_close_millis(std::max(at_millis, request.open_millis()));
        }
      }
      if (!known) {
        // The request comes later (open_millis 0 until then): it counts once it is known.
        auto* request = state->add_requests();
        request->set_interaction_id(interaction.resolves_interaction_id());
        request->set_close_millis(at_millis);
      }
      break;
    }
    case kam::v1::INTERACTION_TYPE_CHURN_NOTICE:
      state->add_churn_notice_millis(at_millis);
      Prune(state->mutable_churn_notice_millis(), at_millis, [](int64_t t) { return t; });
      break;
    default:
      break;
  }
  if (IsContact(interaction.type())) {
    const int32_t day = static_cast<int32_t>(at_millis / kDayMillis);
    (*state->mutable_contacts_by_day())[day] += 1;
    const int32_t oldest_day = static_cast<int32_t>((at_millis - kKpiHistoryMillis) / kDayMillis);
    auto* days = state->mutable_contacts_by_day();
    for (auto it = days->begin(); it != days->end();) {
      it = it->first < oldest_day ? days->erase(it) : std::next(it);
    }
  }
  return absl::OkStatus();
}

}  // namespace kam::alerts
