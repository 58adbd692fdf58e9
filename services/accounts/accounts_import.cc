#include "common/mutex.h"
#include "services/accounts/accounts_book.h"

// ImportAccounts: many creates validated together and applied all or nothing, in one commit.

#include <set>

#include "absl/strings/str_cat.h"
#include "common/fingerprint.h"
#include "services/accounts/mutation.h"
#include "services/accounts/validation.h"

namespace kam::accounts {

using kam::v1::Account;

absl::StatusOr<kam::v1::ImportAccountsResponse> AccountsBook::ImportAccounts(
    const kam::v1::ImportAccountsRequest& request) {
  if (request.rows_size() == 0)
    return absl::InvalidArgumentError("rows: at least one row required");
  if (request.rows_size() > kMaxImportRows) {
    return absl::InvalidArgumentError(absl::StrCat("rows: at most ", kMaxImportRows,
                                                   " rows per call, got ", request.rows_size()));
  }
  WriterMutexLock lock(&mutex_);
  kam::v1::ImportAccountsResponse response;
  Mutation mutation(&state_);
  std::set<std::string> request_ids;
  bool all_ok = true;
  int created = 0;
  for (int row = 0; row < request.rows_size(); ++row) {
    const auto& create = request.rows(row);
    auto* result = response.add_results();
    result->set_row(row);
    auto fail = [&](const absl::Status& status) {
      result->set_code(static_cast<int32_t>(status.code()));
      result->set_error(std::string(status.message()));
      all_ok = false;
    };
    absl::Status valid = ValidateRequestId(create.request_id());
    if (valid.ok() && !create.has_account())
      valid = absl::InvalidArgumentError("account: required");
    if (!valid.ok()) {
      fail(valid);
      continue;
    }
    if (!create.request_id().empty() && !request_ids.insert(create.request_id()).second) {
      fail(absl::InvalidArgumentError(
          absl::StrCat("request_id: \"", create.request_id(), "\" appears twice in this import")));
      continue;
    }
    kam::v1::CreateAccountRequest body = create;
    body.clear_request_id();
    std::string fingerprint = Fingerprint(body);
    absl::StatusOr<std::optional<std::string>> existing =
        LookupRequest("CreateAccount", create.request_id(), fingerprint);
    if (!existing.ok()) {
      fail(existing.status());
      continue;
    }
    if (*existing) {
      result->set_account_id(**existing);  // imported before: idempotent, nothing new
      continue;
    }
    absl::StatusOr<Account> account = ValidateNewAccount(create.account(), "account");
    if (!account.ok()) {
      fail(account.status());
      continue;
    }
    result->set_account_id(account->id());
    mutation.RememberRequest("CreateAccount", create.request_id(), fingerprint, account->id());
    mutation.Emit({PrimaryChange::kAccountCreated, account->id()});
    if (!account->owner_manager_id().empty()) {
      mutation.Emit({PrimaryChange::kAccountAssigned,
                     account->id(),
                     {},
                     "imported with owner",
                     "",
                     account->owner_manager_id()});
    }
    mutation.Put(*std::move(account));
    ++created;
  }
  if (!all_ok || request.validate_only()) {
    // Nothing is applied: ids shown for valid rows would not exist.
    for (auto& result : *response.mutable_results()) {
      if (result.code() == 0 && !state_.accounts().count(result.account_id()))
        result.clear_account_id();
    }
    response.set_created(0);
    response.set_applied(false);
    return response;
  }
  KAM_RETURN_IF_ERROR(Commit(mutation));
  response.set_created(created);
  response.set_applied(true);
  return response;
}

}  // namespace kam::accounts
