#pragma once

// What one request changes, staged over the book until Commit makes it durable in one batch (a
// Kafka transaction on the writer: records, their changelog, the events) and only then applies it
// to the book in memory.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/batch_committer.h"
#include "common/store.h"
#include "services/accounts/book_events.h"
#include "services/accounts/book_state.h"
#include "services/accounts/recompute.h"

namespace kam::accounts {

class Mutation {
 public:
  explicit Mutation(const BookState* book) : book_(book) {}

  const kam::v1::Account* FindAccount(const std::string& id) const {
    return changes_.FindAccount(*book_, id);
  }
  const kam::v1::Manager* FindManager(const std::string& id) const {
    return changes_.FindManager(*book_, id);
  }
  void Put(kam::v1::Account account) {
    const std::string id = account.id();
    changes_.accounts[id] = std::move(account);
  }
  void Put(kam::v1::Manager manager) {
    const std::string id = manager.id();
    changes_.managers[id] = std::move(manager);
  }
  // Remembers which resource `request_id` created (idempotent retries).
  void RememberRequest(const std::string& kind, const std::string& request_id,
                       const std::string& fingerprint, const std::string& resource_id);
  void Emit(PrimaryChange primary) { primaries_.push_back(std::move(primary)); }

  // Recomputes the derived state, writes records, idempotency entries and events through
  // `committer` (refused unless no rebalance came since `generation`), then applies the records
  // to `book`. On error nothing is durable and the book is unchanged.
  absl::Status Commit(const AccountsPolicy& policy, Store* store, BatchCommitter* committer,
                      uint64_t generation, BookState* book);

 private:
  const BookState* book_;
  ChangeSet changes_;
  std::map<std::string, std::pair<std::string, std::string>> requests_;  // fingerprint, id
  std::vector<PrimaryChange> primaries_;
};

}  // namespace kam::accounts
