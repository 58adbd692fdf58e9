#include "services/accounts/accounts_book.h"

#include "common/mutex.h"

// The commands: every change to managers and accounts, staged in a Mutation and committed by the
// writer. Queries are in accounts_queries.cc.

#include <algorithm>
#include <chrono>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "common/consumer_offsets.h"
#include "common/error_details.h"
#include "common/fingerprint.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "services/accounts/derived.h"
#include "services/accounts/mutation.h"
#include "services/accounts/validation.h"

namespace kam::accounts {
namespace {

using kam::v1::Account;
using kam::v1::Manager;

constexpr char kFormatKey[] = "accounts.store_format";
// 2: keys carry the book's task prefix (the writer's changelog is task 0's).
constexpr char kFormat[] = "2";

std::string NewId(const char* prefix) {
  std::string uuid = absl::StrReplaceAll(NewUuid(), {{"-", ""}});
  return absl::StrCat(prefix, uuid.substr(0, 20));
}

std::string NextEtag(const std::string& etag) {
  // Etags are this service's counters; one that does not parse (a store edited by hand) restarts
  // the count instead of throwing on the request path.
  int64_t number = 0;
  if (!absl::SimpleAtoi(etag, &number) || number < 0) number = 0;
  return std::to_string(number + 1);
}

absl::Status CheckEtag(const std::string& given, const std::string& stored, const std::string& what,
                       const std::string& id) {
  if (!given.empty() && given != stored) {
    return errors::EtagMismatch(absl::StrCat(what, "s/", id),
                                absl::StrCat("etag: ", what, " changed since it was read (etag ",
                                             stored, ", request has ", given, "); read it again"));
  }
  return absl::OkStatus();
}

}  // namespace

std::vector<std::string> AccountsBook::ColumnFamilies() {
  return {kManagersCf, kAccountsCf, kRequestsCf};
}

AccountsBook::AccountsBook(Store* store, BatchCommitter* committer, const TaskOwnership* ownership,
                           AccountsPolicy policy, PageTokens tokens)
    : store_(store),
      committer_(committer),
      ownership_(ownership),
      policy_(std::move(policy)),
      tokens_(std::move(tokens)),
      state_(&policy_) {}

AccountsBook::~AccountsBook() = default;

absl::StatusOr<std::unique_ptr<AccountsBook>> AccountsBook::Open(Store* store,
                                                                 BatchCommitter* committer,
                                                                 const TaskOwnership* ownership,
                                                                 AccountsPolicy policy,
                                                                 std::string page_token_secret) {
  KAM_RETURN_IF_ERROR(ValidatePolicy(policy));
  KAM_RETURN_IF_ERROR(CheckStoreFormat(
      store, kFormatKey, kFormat, kAccountsCf,
      "written by an older kam-accounts (keys without the book's task prefix); start with an "
      "empty --data-dir on a new cluster, or keep running the older release"));
  std::optional<PageTokens> tokens;
  if (page_token_secret.empty()) {
    KAM_ASSIGN_OR_RETURN(tokens, PageTokens::ForStore(store));
  } else {
    tokens.emplace(std::move(page_token_secret));
  }
  std::unique_ptr<AccountsBook> book(
      new AccountsBook(store, committer, ownership, std::move(policy), *std::move(tokens)));
  {
    WriterMutexLock lock(&book->mutex_);
    KAM_RETURN_IF_ERROR(book->state_.LoadFrom(*store));
  }
  KAM_ASSIGN_OR_RETURN(uint64_t version, book->StoredVersion());
  {
    MutexLock lock(&book->version_mutex_);
    book->version_ = version;
  }
  return book;
}

absl::StatusOr<std::unique_ptr<AccountsBook>> AccountsBook::Open(Store* store, Outbox* outbox,
                                                                 AccountsPolicy policy) {
  auto committer = std::make_unique<OutboxCommitter>(store, outbox);
  auto ownership = std::make_unique<SingleTaskOwnership>();
  KAM_ASSIGN_OR_RETURN(auto book, Open(store, committer.get(), ownership.get(), std::move(policy)));
  book->owned_committer_ = std::move(committer);
  book->owned_ownership_ = std::move(ownership);
  return book;
}

absl::StatusOr<uint64_t> AccountsBook::StoredVersion() const {
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                       store_->Get(kMetaCf, ChangelogCheckpointKey(0)));
  return stored ? DecodeUint64(*stored) : 0;
}

uint64_t AccountsBook::version() const {
  MutexLock lock(&version_mutex_);
  return version_;
}

bool AccountsBook::AwaitVersion(uint64_t version, std::chrono::milliseconds timeout) const {
  MutexLock lock(&version_mutex_);
  auto reached = [&] {
    version_mutex_.AssertHeld();
    return version_ >= version;
  };
  return version_mutex_.AwaitWithTimeout(reached, absl::FromChrono(timeout));
}

absl::StatusOr<uint64_t> AccountsBook::WriterGeneration() const {
  std::optional<uint64_t> generation = ownership_->RunningSince(0);
  if (!generation) {
    return absl::UnavailableError(
        "this instance is a standby, not the writer of the accounts book (the role may be moving "
        "after a failure): retry; any instance forwards writes to the writer");
  }
  return *generation;
}

absl::Status AccountsBook::Commit(Mutation& mutation) {
  KAM_ASSIGN_OR_RETURN(uint64_t generation, WriterGeneration());
  KAM_RETURN_IF_ERROR(mutation.Commit(policy_, store_, committer_, generation, &state_));
  KAM_ASSIGN_OR_RETURN(uint64_t stored, StoredVersion());
  {
    MutexLock lock(&version_mutex_);
    version_ = stored;
  }
  return absl::OkStatus();
}

absl::Status AccountsBook::ApplyChangelog(const std::vector<StoreRow>& rows, uint64_t next,
                                          bool wiped) {
  {
    WriterMutexLock lock(&mutex_);
    if (wiped) KAM_RETURN_IF_ERROR(state_.LoadFrom(*store_));
    for (const StoreRow& row : rows) {
      std::optional<std::string_view> value;
      if (row.value) value = *row.value;
      KAM_RETURN_IF_ERROR(state_.ApplyRow(row.cf, row.key, value));
    }
    state_.RecomputeTotal();
    MutexLock version_lock(&version_mutex_);
    version_ = next;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> AccountsBook::LookupRequest(
    const std::string& kind, const std::string& request_id, const std::string& fingerprint) const {
  if (request_id.empty()) return std::optional<std::string>();
  return LookupIdempotent(*store_, kRequestsCf, BookKey(absl::StrCat(kind, "/", request_id)),
                          fingerprint, absl::StrCat("request_id \"", request_id, "\""));
}

// ---- managers ----

absl::StatusOr<Manager> AccountsBook::CreateManager(const kam::v1::CreateManagerRequest& request) {
  KAM_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.has_manager()) return InvalidField("manager", "required");
  KAM_RETURN_IF_ERROR(ValidateManagerFields(request.manager(), "manager"));
  kam::v1::CreateManagerRequest body = request;
  body.clear_request_id();
  std::string fingerprint = Fingerprint(body);

  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                       LookupRequest("CreateManager", request.request_id(), fingerprint));
  if (existing) return state_.WithCapacity(state_.managers().at(*existing));
  for (const auto& [id, manager] : state_.managers()) {
    if (manager.email() == request.manager().email()) {
      return errors::WithReason(
          absl::AlreadyExistsError(absl::StrCat("manager.email: \"", manager.email(),
                                                "\" already belongs to manager ", id)),
          "MANAGER_EMAIL_TAKEN", {{"manager_id", id}});
    }
  }
  Manager manager;
  manager.set_id(NewId("mgr_"));
  manager.set_name(request.manager().name());
  manager.set_email(request.manager().email());
  manager.set_industry_focus(request.manager().industry_focus());
  manager.set_capacity(request.manager().capacity());
  manager.set_active(true);
  *manager.mutable_create_time() = NowTimestamp();
  *manager.mutable_update_time() = manager.create_time();
  manager.set_etag("1");

  Mutation mutation(&state_);
  mutation.Put(manager);
  mutation.RememberRequest("CreateManager", request.request_id(), fingerprint, manager.id());
  mutation.Emit({PrimaryChange::kManagerCreated, manager.id()});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithCapacity(state_.managers().at(manager.id()));
}

absl::StatusOr<Manager> AccountsBook::UpdateManager(const kam::v1::UpdateManagerRequest& request) {
  if (!request.has_manager()) return InvalidField("manager", "required");
  KAM_RETURN_IF_ERROR(RequireId(request.manager().id(), "manager.id"));
  KAM_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                       ResolveManagerMask(request.update_mask(), request.manager()));
  WriterMutexLock lock(&mutex_);
  auto it = state_.managers().find(request.manager().id());
  if (it == state_.managers().end()) {
    return errors::NotFound(
        "Manager", request.manager().id(),
        absl::StrCat("manager.id: no manager \"", request.manager().id(), "\""));
  }
  KAM_RETURN_IF_ERROR(
      CheckEtag(request.manager().etag(), it->second.etag(), "manager", it->second.id()));
  Manager updated = it->second;
  ApplyManagerMask(paths, request.manager(), &updated);
  KAM_RETURN_IF_ERROR(ValidateManagerFields(updated, "manager"));
  if (!updated.active() && it->second.active()) {
    KAM_RETURN_IF_ERROR(CheckNothingOwned(updated.id()));
  }
  if (updated.email() != it->second.email()) {
    for (const auto& [id, other] : state_.managers()) {
      if (id != updated.id() && other.email() == updated.email()) {
        return errors::WithReason(
            absl::AlreadyExistsError(absl::StrCat("manager.email: \"", updated.email(),
                                                  "\" already belongs to manager ", id)),
            "MANAGER_EMAIL_TAKEN", {{"manager_id", id}});
      }
    }
  }
  if (updated.SerializeAsString() == it->second.SerializeAsString())
    return state_.WithCapacity(updated);
  updated.set_etag(NextEtag(updated.etag()));
  *updated.mutable_update_time() = NowTimestamp();
  Mutation mutation(&state_);
  mutation.Put(updated);
  mutation.Emit({PrimaryChange::kManagerUpdated, updated.id()});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithCapacity(state_.managers().at(updated.id()));
}

// ---- accounts ----

absl::Status AccountsBook::CheckOwner(const std::string& manager_id,
                                      const std::string& field) const {
  auto it = state_.managers().find(manager_id);
  if (it == state_.managers().end()) {
    return errors::NotFound("Manager", manager_id,
                            absl::StrCat(field, ": no manager \"", manager_id, "\""));
  }
  if (!it->second.active()) {
    return errors::FailedPrecondition(
        "MANAGER_INACTIVE", "MANAGER_STATE", absl::StrCat("managers/", manager_id),
        absl::StrCat(field, ": manager \"", manager_id, "\" is inactive and cannot own accounts"));
  }
  return absl::OkStatus();
}

absl::Status AccountsBook::CheckNothingOwned(const std::string& manager_id) const {
  const std::set<std::string>& owned = state_.OwnedIds(manager_id);
  if (owned.empty()) return absl::OkStatus();
  std::vector<std::string> named(owned.begin(),
                                 std::next(owned.begin(), std::min<size_t>(owned.size(), 20)));
  return errors::FailedPrecondition(
      "MANAGER_OWNS_ACCOUNTS", "MANAGER_STATE", absl::StrCat("managers/", manager_id),
      absl::StrCat("manager.active: manager \"", manager_id, "\" still owns ", owned.size(),
                   " open accounts (", absl::StrJoin(named, ", "), owned.size() > 20 ? ", ..." : "",
                   "): move them first (SuggestReassignments, ReassignAccount)"));
}

absl::Status AccountsBook::CheckParent(const Account& account, const std::string& field) const {
  const std::string& parent_id = account.parent_account_id();
  if (parent_id.empty()) return absl::OkStatus();
  if (parent_id == account.id()) {
    return InvalidField(field, "an account cannot be its own parent");
  }
  auto parent = state_.accounts().find(parent_id);
  if (parent == state_.accounts().end()) {
    return errors::NotFound("Account", parent_id,
                            absl::StrCat(field, ": no account \"", parent_id, "\""));
  }
  if (!IsOpen(parent->second)) {
    return errors::FailedPrecondition(
        "ACCOUNT_CLOSED", "ACCOUNT_STATE", absl::StrCat("accounts/", parent_id),
        absl::StrCat(field, ": parent account \"", parent_id, "\" is closed"));
  }
  // Walk up from the new parent: meeting the account itself means a cycle.
  std::set<std::string> seen;
  for (const Account* at = &parent->second; !at->parent_account_id().empty();) {
    if (at->parent_account_id() == account.id() || !seen.insert(at->id()).second) {
      return errors::FailedPrecondition(
          "ACCOUNT_HIERARCHY_CYCLE", "ACCOUNT_HIERARCHY", absl::StrCat("accounts/", account.id()),
          absl::StrCat(field, ": making \"", parent_id, "\" the parent of \"", account.id(),
                       "\" would create a cycle in the account hierarchy"));
    }
    auto next = state_.accounts().find(at->parent_account_id());
    if (next == state_.accounts().end()) break;
    at = &next->second;
  }
  return absl::OkStatus();
}

absl::StatusOr<const Account*> AccountsBook::OpenAccountToChange(const std::string& id,
                                                                 const std::string& etag,
                                                                 const std::string& field) const {
  const Account* account = state_.FindAccount(id);
  if (account == nullptr) {
    return errors::NotFound("Account", id, absl::StrCat(field, ": no account \"", id, "\""));
  }
  KAM_RETURN_IF_ERROR(CheckEtag(etag, account->etag(), "account", id));
  if (!IsOpen(*account)) {
    return errors::FailedPrecondition(
        "ACCOUNT_CLOSED", "ACCOUNT_STATE", absl::StrCat("accounts/", id),
        absl::StrCat(field, ": account \"", id, "\" is closed and kept for history only"));
  }
  return account;
}

absl::StatusOr<Account> AccountsBook::ValidateNewAccount(const Account& input,
                                                         const std::string& prefix) const {
  KAM_RETURN_IF_ERROR(ValidateAccountFields(input, prefix, policy_));
  Account account = input;
  account.set_id(NewId("acc_"));
  if (account.lifecycle_phase() == 0)
    account.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_ESTABLISHED);
  if (account.complexity() == 0) account.set_complexity(kam::v1::COMPLEXITY_MEDIUM);
  account.clear_create_time();
  account.clear_update_time();
  account.clear_close_time();
  account.clear_tier();
  account.clear_weight();
  account.clear_revenue_share();
  account.set_international(IsInternational(account));
  KAM_RETURN_IF_ERROR(CheckParent(account, prefix + ".parent_account_id"));
  if (!account.owner_manager_id().empty()) {
    KAM_RETURN_IF_ERROR(CheckOwner(account.owner_manager_id(), prefix + ".owner_manager_id"));
  }
  *account.mutable_create_time() = NowTimestamp();
  *account.mutable_update_time() = account.create_time();
  account.set_etag("1");
  return account;
}

absl::StatusOr<Account> AccountsBook::CreateAccount(const kam::v1::CreateAccountRequest& request) {
  KAM_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  if (!request.has_account()) return InvalidField("account", "required");
  kam::v1::CreateAccountRequest body = request;
  body.clear_request_id();
  std::string fingerprint = Fingerprint(body);

  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(std::optional<std::string> existing,
                       LookupRequest("CreateAccount", request.request_id(), fingerprint));
  if (existing) return state_.WithShare(state_.accounts().at(*existing));
  KAM_ASSIGN_OR_RETURN(Account account, ValidateNewAccount(request.account(), "account"));
  Mutation mutation(&state_);
  mutation.Put(account);
  mutation.RememberRequest("CreateAccount", request.request_id(), fingerprint, account.id());
  mutation.Emit({PrimaryChange::kAccountCreated, account.id()});
  if (!account.owner_manager_id().empty()) {
    mutation.Emit({PrimaryChange::kAccountAssigned,
                   account.id(),
                   {},
                   "created with owner",
                   "",
                   account.owner_manager_id()});
  }
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithShare(state_.accounts().at(account.id()));
}

absl::StatusOr<Account> AccountsBook::UpdateAccount(const kam::v1::UpdateAccountRequest& request) {
  if (!request.has_account()) return InvalidField("account", "required");
  KAM_RETURN_IF_ERROR(RequireId(request.account().id(), "account.id"));
  for (const auto& path : request.update_mask().paths()) {
    if (path == "owner_manager_id") {
      return InvalidField("update_mask",
                          "owner_manager_id changes through AssignAccount or ReassignAccount");
    }
  }
  KAM_ASSIGN_OR_RETURN(std::vector<std::string> paths,
                       ResolveAccountMask(request.update_mask(), request.account()));
  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(
      const Account* current,
      OpenAccountToChange(request.account().id(), request.account().etag(), "account.id"));
  Account updated = *current;
  ApplyAccountMask(paths, request.account(), &updated);
  KAM_RETURN_IF_ERROR(ValidateAccountFields(updated, "account", policy_));
  KAM_RETURN_IF_ERROR(CheckParent(updated, "account.parent_account_id"));
  if (updated.SerializeAsString() == current->SerializeAsString()) return state_.WithShare(updated);
  updated.set_etag(NextEtag(updated.etag()));
  *updated.mutable_update_time() = NowTimestamp();
  Mutation mutation(&state_);
  mutation.Put(updated);
  mutation.Emit({PrimaryChange::kAccountUpdated, updated.id(), paths});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithShare(state_.accounts().at(updated.id()));
}

absl::StatusOr<Account> AccountsBook::CloseAccount(const kam::v1::CloseAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.id(), "id"));
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.id(), request.etag(), "id"));
  Account closed = *current;
  closed.set_lifecycle_phase(kam::v1::LIFECYCLE_PHASE_CHURNED);
  *closed.mutable_close_time() = NowTimestamp();
  *closed.mutable_update_time() = closed.close_time();
  closed.set_weight(0);
  closed.set_etag(NextEtag(closed.etag()));
  Mutation mutation(&state_);
  mutation.Put(closed);
  mutation.Emit({PrimaryChange::kAccountClosed, closed.id(), {}, request.reason()});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithShare(state_.accounts().at(closed.id()));
}

absl::StatusOr<Account> AccountsBook::AssignAccount(const kam::v1::AssignAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.account_id(), "account_id"));
  KAM_RETURN_IF_ERROR(RequireId(request.manager_id(), "manager_id"));
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.account_id(), request.etag(), "account_id"));
  if (!current->owner_manager_id().empty()) {
    return errors::FailedPrecondition(
        "ACCOUNT_ALREADY_OWNED", "ACCOUNT_OWNER", absl::StrCat("accounts/", current->id()),
        absl::StrCat("account_id: account \"", current->id(), "\" is already owned by \"",
                     current->owner_manager_id(), "\"; use ReassignAccount"));
  }
  KAM_RETURN_IF_ERROR(CheckOwner(request.manager_id(), "manager_id"));
  Account assigned = *current;
  assigned.set_owner_manager_id(request.manager_id());
  assigned.set_etag(NextEtag(assigned.etag()));
  *assigned.mutable_update_time() = NowTimestamp();
  Mutation mutation(&state_);
  mutation.Put(assigned);
  mutation.Emit({PrimaryChange::kAccountAssigned,
                 assigned.id(),
                 {},
                 request.reason(),
                 "",
                 request.manager_id()});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithShare(state_.accounts().at(assigned.id()));
}

absl::StatusOr<Account> AccountsBook::ReassignAccount(
    const kam::v1::ReassignAccountRequest& request) {
  KAM_RETURN_IF_ERROR(RequireId(request.account_id(), "account_id"));
  KAM_RETURN_IF_ERROR(RequireId(request.new_manager_id(), "new_manager_id"));
  if (request.reason().empty()) {
    return InvalidField("reason", "required; say why the owner changes");
  }
  KAM_RETURN_IF_ERROR(ValidateReason(request.reason(), "reason"));
  WriterMutexLock lock(&mutex_);
  KAM_ASSIGN_OR_RETURN(const Account* current,
                       OpenAccountToChange(request.account_id(), request.etag(), "account_id"));
  const std::string old_owner = current->owner_manager_id();
  if (old_owner.empty()) {
    return errors::FailedPrecondition("ACCOUNT_HAS_NO_OWNER", "ACCOUNT_OWNER",
                                      absl::StrCat("accounts/", current->id()),
                                      absl::StrCat("account_id: account \"", current->id(),
                                                   "\" has no owner; use AssignAccount"));
  }
  if (old_owner == request.new_manager_id()) {
    return errors::FailedPrecondition(
        "ACCOUNT_ALREADY_OWNED", "ACCOUNT_OWNER", absl::StrCat("accounts/", current->id()),
        absl::StrCat("new_manager_id: \"", old_owner, "\" already owns the account"));
  }
  KAM_RETURN_IF_ERROR(CheckOwner(request.new_manager_id(), "new_manager_id"));
  Account moved = *current;
  moved.set_owner_manager_id(request.new_manager_id());
  moved.set_etag(NextEtag(moved.etag()));
  *moved.mutable_update_time() = NowTimestamp();
  Mutation mutation(&state_);
  mutation.Put(moved);
  mutation.Emit({PrimaryChange::kAccountAssigned,
                 moved.id(),
                 {},
                 request.reason(),
                 old_owner,
                 request.new_manager_id()});
  KAM_RETURN_IF_ERROR(Commit(mutation));
  return state_.WithShare(state_.accounts().at(moved.id()));
}

size_t AccountsBook::account_count() const {
  ReaderMutexLock lock(&mutex_);
  return state_.accounts().size();
}

size_t AccountsBook::manager_count() const {
  ReaderMutexLock lock(&mutex_);
  return state_.managers().size();
}

}  // namespace kam::accounts
