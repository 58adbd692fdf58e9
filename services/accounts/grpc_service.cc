#include "services/accounts/grpc_service.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/grpc_unary.h"

namespace kam::accounts {
namespace {

using kam::v1::AccountsService;

constexpr char kVersionHeader[] = "kam-book-version";
constexpr char kMinVersionHeader[] = "kam-min-book-version";
constexpr auto kMaxVersionWait = std::chrono::seconds(5);

}  // namespace

template <typename Request, typename Response, typename Local, typename Remote>
grpc::ServerUnaryReactor* AccountsGrpcService::Write(grpc::CallbackServerContext* context,
                                                     const char* method, const Request* request,
                                                     Response* response, Local local,
                                                     Remote remote) {
  if (router_ != nullptr) {
    // The book is task 0 of the group: its owner is the writer.
    absl::StatusOr<std::optional<std::string>> route = router_->Route(0, context);
    if (!route.ok()) return RefuseCall(context, metrics_, method, route.status());
    if (*route) {
      return ForwardCall<AccountsService>(router_, context, metrics_, method, **route, request,
                                          response, remote, {kVersionHeader});
    }
  }
  return AnswerUnary(context, metrics_, method, response, [&] {
    auto result = local();
    // At least this write's position: a later read that asks for it sees the write.
    context->AddInitialMetadata(kVersionHeader, std::to_string(book_->version()));
    return result;
  });
}

template <typename Response, typename Local>
grpc::ServerUnaryReactor* AccountsGrpcService::Read(grpc::CallbackServerContext* context,
                                                    const char* method, Response* response,
                                                    Local local) {
  auto wanted = context->client_metadata().find(kMinVersionHeader);
  if (wanted != context->client_metadata().end()) {
    uint64_t min_version = 0;
    if (!absl::SimpleAtoi(std::string(wanted->second.data(), wanted->second.size()),
                          &min_version)) {
      return RefuseCall(context, metrics_, method,
                        absl::InvalidArgumentError(absl::StrCat(
                            kMinVersionHeader, ": not a version (a kam-book-version value)")));
    }
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(kMaxVersionWait);
    if (context->deadline() != std::chrono::system_clock::time_point::max()) {
      // Leave the caller a quarter of its time to hear the answer (and retry elsewhere).
      wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                context->deadline() - std::chrono::system_clock::now()) *
                                3 / 4);
    }
    if (!book_->AwaitVersion(min_version, std::max(wait, std::chrono::milliseconds(0)))) {
      return RefuseCall(context, metrics_, method,
                        absl::UnavailableError(absl::StrCat(
                            "this instance's book is at version ", book_->version(),
                            ", the call asks for at "
                            "least ",
                            min_version, ": it is catching up with the writer; retry")));
    }
  }
  return AnswerUnary(context, metrics_, method, response, [&] {
    // Read before the book: the answer reflects at least this version.
    context->AddInitialMetadata(kVersionHeader, std::to_string(book_->version()));
    return local();
  });
}

grpc::ServerUnaryReactor* AccountsGrpcService::CreateManager(
    grpc::CallbackServerContext* context, const kam::v1::CreateManagerRequest* request,
    kam::v1::Manager* response) {
  return Write(
      context, "CreateManager", request, response, [&] { return book_->CreateManager(*request); },
      [](auto* async, auto... args) { async->CreateManager(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetManager(grpc::CallbackServerContext* context,
                                                          const kam::v1::GetManagerRequest* request,
                                                          kam::v1::Manager* response) {
  return Read(context, "GetManager", response, [&] { return book_->GetManager(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListManagers(
    grpc::CallbackServerContext* context, const kam::v1::ListManagersRequest* request,
    kam::v1::ListManagersResponse* response) {
  return Read(context, "ListManagers", response, [&] { return book_->ListManagers(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::UpdateManager(
    grpc::CallbackServerContext* context, const kam::v1::UpdateManagerRequest* request,
    kam::v1::Manager* response) {
  return Write(
      context, "UpdateManager", request, response, [&] { return book_->UpdateManager(*request); },
      [](auto* async, auto... args) { async->UpdateManager(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::CreateAccount(
    grpc::CallbackServerContext* context, const kam::v1::CreateAccountRequest* request,
    kam::v1::Account* response) {
  return Write(
      context, "CreateAccount", request, response, [&] { return book_->CreateAccount(*request); },
      [](auto* async, auto... args) { async->CreateAccount(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetAccount(grpc::CallbackServerContext* context,
                                                          const kam::v1::GetAccountRequest* request,
                                                          kam::v1::Account* response) {
  return Read(context, "GetAccount", response, [&] { return book_->GetAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListAccounts(
    grpc::CallbackServerContext* context, const kam::v1::ListAccountsRequest* request,
    kam::v1::ListAccountsResponse* response) {
  return Read(context, "ListAccounts", response, [&] { return book_->ListAccounts(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::UpdateAccount(
    grpc::CallbackServerContext* context, const kam::v1::UpdateAccountRequest* request,
    kam::v1::Account* response) {
  return Write(
      context, "UpdateAccount", request, response, [&] { return book_->UpdateAccount(*request); },
      [](auto* async, auto... args) { async->UpdateAccount(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::CloseAccount(
    grpc::CallbackServerContext* context, const kam::v1::CloseAccountRequest* request,
    kam::v1::Account* response) {
  return Write(
      context, "CloseAccount", request, response, [&] { return book_->CloseAccount(*request); },
      [](auto* async, auto... args) { async->CloseAccount(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::AssignAccount(
    grpc::CallbackServerContext* context, const kam::v1::AssignAccountRequest* request,
    kam::v1::Account* response) {
  return Write(
      context, "AssignAccount", request, response, [&] { return book_->AssignAccount(*request); },
      [](auto* async, auto... args) { async->AssignAccount(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ReassignAccount(
    grpc::CallbackServerContext* context, const kam::v1::ReassignAccountRequest* request,
    kam::v1::Account* response) {
  return Write(
      context, "ReassignAccount", request, response,
      [&] { return book_->ReassignAccount(*request); },
      [](auto* async, auto... args) { async->ReassignAccount(args...); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetManagerLoad(
    grpc::CallbackServerContext* context, const kam::v1::GetManagerLoadRequest* request,
    kam::v1::ManagerLoad* response) {
  return Read(context, "GetManagerLoad", response, [&] { return book_->GetManagerLoad(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListManagerLoads(
    grpc::CallbackServerContext* context, const kam::v1::ListManagerLoadsRequest* request,
    kam::v1::ListManagerLoadsResponse* response) {
  return Read(context, "ListManagerLoads", response,
              [&] { return book_->ListManagerLoads(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::SuggestReassignments(
    grpc::CallbackServerContext* context, const kam::v1::SuggestReassignmentsRequest* request,
    kam::v1::SuggestReassignmentsResponse* response) {
  return Read(context, "SuggestReassignments", response,
              [&] { return book_->SuggestReassignments(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ImportAccounts(
    grpc::CallbackServerContext* context, const kam::v1::ImportAccountsRequest* request,
    kam::v1::ImportAccountsResponse* response) {
  return Write(
      context, "ImportAccounts", request, response, [&] { return book_->ImportAccounts(*request); },
      [](auto* async, auto... args) { async->ImportAccounts(args...); });
}

}  // namespace kam::accounts
