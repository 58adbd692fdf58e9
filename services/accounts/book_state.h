#pragma once

// The accounts book in memory: every manager and account, the open accounts of each manager and
// the revenue total. One class changes it -- ApplyRow -- whoever the rows come from: the writer
// after its commit, a standby following the writer's changelog, a restore. So a standby's book
// is the writer's book, built by the same code. Reads never touch the disk.
//
// Stored rows: column family "managers" / "accounts" / "requests", key = task prefix (the book is
// task 0 of kam-accounts' group) + id, value = the record.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/store.h"
#include "kam/v1/accounts.pb.h"
#include "services/accounts/policy.h"

namespace kam::accounts {

inline constexpr char kManagersCf[] = "managers";
inline constexpr char kAccountsCf[] = "accounts";
inline constexpr char kRequestsCf[] = "requests";

// The key of `id` in the book's column families.
std::string BookKey(std::string_view id);

bool IsOpen(const kam::v1::Account& account);

class BookState {
 public:
  explicit BookState(const AccountsPolicy* policy) : policy_(policy) {}

  // Applies one stored row (a tombstone when `value` is empty). Rows of other column families
  // (idempotency records) are ignored: they are read from the store.
  absl::Status ApplyRow(std::string_view cf, std::string_view key,
                        std::optional<std::string_view> value);
  void PutAccount(kam::v1::Account account);
  void PutManager(kam::v1::Manager manager);
  // Recomputes the revenue total over the open accounts (after a batch of rows).
  void RecomputeTotal();
  // Forgets everything and loads every row of `store`.
  absl::Status LoadFrom(const Store& store);

  const kam::v1::Account* FindAccount(const std::string& id) const;
  const kam::v1::Manager* FindManager(const std::string& id) const;
  const std::map<std::string, kam::v1::Account>& accounts() const { return accounts_; }
  const std::map<std::string, kam::v1::Manager>& managers() const { return managers_; }
  // Ids of the open accounts `manager_id` owns.
  const std::set<std::string>& OwnedIds(const std::string& manager_id) const;
  std::vector<const kam::v1::Account*> OwnedOpen(const std::string& manager_id) const;
  double total_revenue() const { return total_revenue_; }

  // The account with its share of the total revenue; the manager with its effective capacity.
  kam::v1::Account WithShare(kam::v1::Account account) const;
  kam::v1::Manager WithCapacity(kam::v1::Manager manager) const;
  // The load `owned` puts on `manager`.
  kam::v1::ManagerLoad LoadOf(const kam::v1::Manager& manager,
                              const std::vector<const kam::v1::Account*>& owned) const;

 private:
  const AccountsPolicy* policy_;
  std::map<std::string, kam::v1::Manager> managers_;
  std::map<std::string, kam::v1::Account> accounts_;
  std::map<std::string, std::set<std::string>> owned_;  // manager id -> open account ids
  double total_revenue_ = 0;                            // open accounts, reporting currency
};

}  // namespace kam::accounts
