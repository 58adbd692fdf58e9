#pragma once

// The accounts service's logic: managers, accounts, ownership, tiers and manager load. Plain C++
// over RocksDB and a BatchCommitter, with no gRPC or Kafka: the gRPC adapter (grpc_service.h)
// only translates and routes. Every accepted change is ONE commit holding the changed records,
// the events that describe them, and the events for every derived change it caused (tiers of
// other accounts, the load of every manager it touched). Nothing is written when a request is
// refused.
//
// One instance of the group is the WRITER (it runs the group's single task, task 0); the others
// are standbys whose book follows the writer's changelog (ApplyChangelog) and answers reads. A
// write on a standby is refused with UNAVAILABLE (the gRPC layer forwards it to the writer first).
// Every read and write reports the book's VERSION -- the changelog position the book reflects --
// and a read can ask for at least the version of an earlier write (AwaitVersion).
//
// Where the code is: commands in accounts_book.cc, queries in accounts_queries.cc, the state in
// book_state.h, the derived-state recomputation in recompute.h, events in book_events.h, staging
// and commit in mutation.h.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "common/batch_committer.h"
#include "common/mutex.h"
#include "common/outbox.h"
#include "common/page_token.h"
#include "common/status.h"
#include "common/store.h"
#include "common/task_ownership.h"
#include "kam/v1/accounts.pb.h"
#include "services/accounts/book_state.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

class Mutation;

class AccountsBook {
 public:
  static std::vector<std::string> ColumnFamilies();
  // The column families the writer's changelog carries (all of them).
  static std::vector<std::string> TaskColumnFamilies() { return ColumnFamilies(); }
  // Restores the in-memory state from `store`. Writes commit through `committer` while
  // `ownership` says task 0 runs here.
  static absl::StatusOr<std::unique_ptr<AccountsBook>> Open(Store* store, BatchCommitter* committer,
                                                            const TaskOwnership* ownership,
                                                            AccountsPolicy policy,
                                                            std::string page_token_secret = "");
  // One instance that is always the writer, committing through the outbox (tests, tools).
  static absl::StatusOr<std::unique_ptr<AccountsBook>> Open(Store* store, Outbox* outbox,
                                                            AccountsPolicy policy);
  ~AccountsBook();

  absl::StatusOr<kam::v1::Manager> CreateManager(const kam::v1::CreateManagerRequest& request);
  absl::StatusOr<kam::v1::Manager> GetManager(const kam::v1::GetManagerRequest& request) const;
  absl::StatusOr<kam::v1::ListManagersResponse> ListManagers(
      const kam::v1::ListManagersRequest& request) const;
  absl::StatusOr<kam::v1::Manager> UpdateManager(const kam::v1::UpdateManagerRequest& request);

  absl::StatusOr<kam::v1::Account> CreateAccount(const kam::v1::CreateAccountRequest& request);
  absl::StatusOr<kam::v1::Account> GetAccount(const kam::v1::GetAccountRequest& request) const;
  absl::StatusOr<kam::v1::ListAccountsResponse> ListAccounts(
      const kam::v1::ListAccountsRequest& request) const;
  absl::StatusOr<kam::v1::Account> UpdateAccount(const kam::v1::UpdateAccountRequest& request);
  absl::StatusOr<kam::v1::Account> CloseAccount(const kam::v1::CloseAccountRequest& request);
  absl::StatusOr<kam::v1::Account> AssignAccount(const kam::v1::AssignAccountRequest& request);
  absl::StatusOr<kam::v1::Account> ReassignAccount(const kam::v1::ReassignAccountRequest& request);

  absl::StatusOr<kam::v1::ManagerLoad> GetManagerLoad(
      const kam::v1::GetManagerLoadRequest& request) const;
  absl::StatusOr<kam::v1::ListManagerLoadsResponse> ListManagerLoads(
      const kam::v1::ListManagerLoadsRequest& request) const;
  // A plan that relieves overloaded managers (rebalance.h); changes nothing.
  absl::StatusOr<kam::v1::SuggestReassignmentsResponse> SuggestReassignments(
      const kam::v1::SuggestReassignmentsRequest& request) const;

  absl::StatusOr<kam::v1::ImportAccountsResponse> ImportAccounts(
      const kam::v1::ImportAccountsRequest& request);

  // The changelog position the book reflects (0 before the first write).
  uint64_t version() const;
  // Waits until the book reflects at least `version`; false when `timeout` passed first.
  bool AwaitVersion(uint64_t version, std::chrono::milliseconds timeout) const;
  // A standby's restore wrote `rows` of the writer's changelog to the store, up to `next` (the
  // changelog offset after them): the book follows. `wiped`: the store was emptied first.
  absl::Status ApplyChangelog(const std::vector<StoreRow>& rows, uint64_t next, bool wiped);

  size_t account_count() const;
  size_t manager_count() const;

 private:
  AccountsBook(Store* store, BatchCommitter* committer, const TaskOwnership* ownership,
               AccountsPolicy policy, PageTokens tokens);

  // The rebalance generation since which this instance is the writer; UNAVAILABLE on a standby.
  absl::StatusOr<uint64_t> WriterGeneration() const;
  // Commits `mutation` as the writer (mutex_ held exclusively).
  absl::Status Commit(Mutation& mutation) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The store's changelog checkpoint of the book (task 0).
  absl::StatusOr<uint64_t> StoredVersion() const;

  // Idempotency: the id a request_id already created, after checking the request is the same.
  absl::StatusOr<std::optional<std::string>> LookupRequest(const std::string& kind,
                                                           const std::string& request_id,
                                                           const std::string& fingerprint) const;
  // Checks owner and parent references of a new or changed account against current state.
  absl::Status CheckOwner(const std::string& manager_id, const std::string& field) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // FAILED_PRECONDITION naming the open accounts `manager_id` owns, if any (before deactivating).
  absl::Status CheckNothingOwned(const std::string& manager_id) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::Status CheckParent(const kam::v1::Account& account, const std::string& field) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<kam::v1::Account> ValidateNewAccount(const kam::v1::Account& input,
                                                      const std::string& prefix) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);
  // The account a change names: NOT_FOUND (naming `field`), ABORTED on a stale etag, and
  // FAILED_PRECONDITION when it is closed.
  absl::StatusOr<const kam::v1::Account*> OpenAccountToChange(const std::string& id,
                                                              const std::string& etag,
                                                              const std::string& field) const
      ABSL_SHARED_LOCKS_REQUIRED(mutex_);

  Store* store_;
  std::unique_ptr<BatchCommitter> owned_committer_;
  BatchCommitter* committer_;
  std::unique_ptr<TaskOwnership> owned_ownership_;
  const TaskOwnership* ownership_;
  AccountsPolicy policy_;
  PageTokens tokens_;

  // Writes hold it exclusively (one at a time, as the writer); reads and the standby's apply too.
  mutable SharedMutex mutex_;
  BookState state_ ABSL_GUARDED_BY(mutex_);
  mutable Mutex version_mutex_ ABSL_ACQUIRED_AFTER(mutex_);
  uint64_t version_ ABSL_GUARDED_BY(version_mutex_) = 0;
};

}  // namespace kam::accounts
