#pragma once

// The events one committed change set publishes: what the request did (primary changes, in the
// order it did them), then an AccountUpdated for every account whose tier or weight moved only
// because of it, then a full ManagerLoadChanged snapshot for every manager whose load may have
// moved. Built from the final staged state, so every event carries the records as stored.

#include <string>
#include <vector>

#include "common/outbox.h"
#include "services/accounts/book_state.h"
#include "services/accounts/recompute.h"

namespace kam::accounts {

struct PrimaryChange {
  enum Kind {
    kAccountCreated,
    kAccountUpdated,
    kAccountClosed,
    kAccountAssigned,
    kManagerCreated,
    kManagerUpdated
  } kind;
  std::string id;
  std::vector<std::string> changed_fields;
  std::string reason;
  std::string old_owner;
  std::string new_owner;
};

std::vector<OutboundEvent> BuildEvents(const BookState& book, const ChangeSet& changes,
                                       const std::vector<PrimaryChange>& primaries,
                                       const DerivedChanges& derived);

}  // namespace kam::accounts
