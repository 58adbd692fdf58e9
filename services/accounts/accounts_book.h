#pragma once

// The accounts service's logic: managers, accounts, ownership, tiers and manager load. Plain C++
// over RocksDB and the outbox, with no gRPC or Kafka: the gRPC adapter (grpc_service.h) only
// translates. Every accepted change is ONE outbox commit holding the changed records, the events
// that describe them, and the events for every derived change it caused (tiers of other accounts,
// the load of every manager it touched). Nothing is written when a request is refused.
//
// All records are also kept in memory (restored from RocksDB at start), so reads, filters and the
// tier recomputation never touch the disk. Writes are serialized by one mutex.

#include <map>
#include <memory>
#include <set>
#include <shared_mutex>
#include <string>
#include <vector>

#include "common/outbox.h"
#include "common/page_token.h"
#include "common/status.h"
#include "common/store.h"
#include "kam/v1/accounts.pb.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

class AccountsBook {
 public:
  static std::vector<std::string> ColumnFamilies();
  // Restores the in-memory state from `store`.
  static absl::StatusOr<std::unique_ptr<AccountsBook>> Open(Store* store, Outbox* outbox,
                                                            AccountsPolicy policy);

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

  absl::StatusOr<kam::v1::ImportAccountsResponse> ImportAccounts(
      const kam::v1::ImportAccountsRequest& request);

  size_t account_count() const;
  size_t manager_count() const;

 private:
  class Mutation;
  friend class Mutation;

  AccountsBook(Store* store, Outbox* outbox, AccountsPolicy policy, PageTokens tokens)
      : store_(store), outbox_(outbox), policy_(std::move(policy)), tokens_(std::move(tokens)) {}
  absl::Status Restore();

  // Idempotency: the id a request_id already created, after checking the request is the same.
  absl::StatusOr<std::optional<std::string>> LookupRequest(const std::string& kind,
                                                           const std::string& request_id,
                                                           const std::string& fingerprint) const;
  // Checks owner and parent references of a new or changed account against current state.
  absl::Status CheckOwner(const std::string& manager_id, const std::string& field) const;
  absl::Status CheckParent(const kam::v1::Account& account, const std::string& field) const;
  absl::StatusOr<kam::v1::Account> ValidateNewAccount(const kam::v1::Account& input,
                                                      const std::string& prefix) const;

  const kam::v1::Account* FindAccount(const std::string& id) const;
  // The account a change names: NOT_FOUND (naming `field`), ABORTED on a stale etag, and
  // FAILED_PRECONDITION when it is closed.
  absl::StatusOr<const kam::v1::Account*> OpenAccountToChange(const std::string& id,
                                                              const std::string& etag,
                                                              const std::string& field) const;

  kam::v1::Account WithShare(kam::v1::Account account) const;
  kam::v1::Manager WithCapacity(kam::v1::Manager manager) const;
  kam::v1::ManagerLoad LoadOf(const kam::v1::Manager& manager,
                              const std::vector<const kam::v1::Account*>& owned) const;
  std::vector<const kam::v1::Account*> OwnedOpen(const std::string& manager_id) const;

  Store* store_;
  Outbox* outbox_;
  AccountsPolicy policy_;
  PageTokens tokens_;

  mutable std::shared_mutex mutex_;
  std::map<std::string, kam::v1::Manager> managers_;
  std::map<std::string, kam::v1::Account> accounts_;
  // manager id -> ids of the open accounts it owns
  std::map<std::string, std::set<std::string>> owned_;
  double total_revenue_ = 0;  // open accounts, reporting currency
};

}  // namespace kam::accounts
