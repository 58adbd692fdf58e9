#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "services/alerts/portfolio.h"
#include "services/alerts/projections.h"

namespace kam::alerts {

using kam::internal::v1::AlertAccountState;
using kam::internal::v1::AlertManagerState;

absl::Status OnManagerEvent(AlertTx& tx, int32_t p, const kam::v1::EventEnvelope& envelope,
                            const ConsumedRecord& record, const EngineOptions& options) {
  std::string id;
  if (envelope.has_manager_load_changed()) {
    id = envelope.manager_load_changed().load().manager_id();
  } else if (envelope.has_manager_created()) {
    id = envelope.manager_created().manager().id();
  } else if (envelope.has_manager_updated()) {
    id = envelope.manager_updated().manager().id();
  } else {
    return absl::OkStatus();  // AccountAssigned copies: the load snapshot that follows is enough
  }
  if (id.empty() || id != record.key) {
    return absl::InvalidArgumentError(
        absl::StrCat("key: \"", record.key, "\" does not match manager id \"", id, "\""));
  }
  const int64_t at = MillisFromTimestamp(envelope.time());
  KAM_ASSIGN_OR_RETURN(AlertManagerState * state, tx.Manager(p, id));
  if (envelope.has_manager_load_changed()) {
    const auto& load = envelope.manager_load_changed().load();
    state->set_name(load.manager_name());
    state->set_load(load.load());
    state->set_capacity(load.capacity());
    state->set_account_count(load.account_count());
    state->clear_top_accounts();
    for (int i = 0; i < load.accounts_size() && i < 3; ++i) {
      state->add_top_accounts(
          absl::StrCat(load.accounts(i).account_name(), " (", load.accounts(i).weight(), ")"));
    }
  } else {
    const auto& manager = envelope.has_manager_created() ? envelope.manager_created().manager()
                                                         : envelope.manager_updated().manager();
    state->set_name(manager.name());
    state->set_industry(manager.industry_focus());
    if (manager.effective_capacity() > 0) state->set_capacity(manager.effective_capacity());
  }
  return EvaluateManager(tx, p, id, options, at);
}

}  // namespace kam::alerts
