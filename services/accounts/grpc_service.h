#pragma once

// The gRPC face of the accounts service: translates each call to AccountsBook and its status to
// a gRPC code, and routes writes to the writer. Any instance answers any call: reads from its own
// book (the writer's, or a standby's that follows the writer's changelog), writes forwarded to
// the writer when this instance is a standby.
//
// Versions: every answer carries the `kam-book-version` header, the changelog position of the
// book that answered (after the write, for a write). A read that sends `kam-min-book-version`
// is answered only from a book at least that current: it waits up to 5 s (within its deadline)
// for a standby to catch up, then answers UNAVAILABLE. A client that passes the version of its
// own write thus never reads older state, on any instance.

#include "common/rpc_metrics.h"
#include "common/task_router.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "services/accounts/accounts_book.h"

namespace kam::accounts {

class AccountsGrpcService final : public kam::v1::AccountsService::CallbackService {
 public:
  // `router` may be null: one instance, always the writer.
  AccountsGrpcService(AccountsBook* book, TaskRouter* router, RpcMetrics* metrics)
      : book_(book), router_(router), metrics_(metrics) {}

  grpc::ServerUnaryReactor* CreateManager(grpc::CallbackServerContext* context,
                                          const kam::v1::CreateManagerRequest* request,
                                          kam::v1::Manager* response) override;
  grpc::ServerUnaryReactor* GetManager(grpc::CallbackServerContext* context,
                                       const kam::v1::GetManagerRequest* request,
                                       kam::v1::Manager* response) override;
  grpc::ServerUnaryReactor* ListManagers(grpc::CallbackServerContext* context,
                                         const kam::v1::ListManagersRequest* request,
                                         kam::v1::ListManagersResponse* response) override;
  grpc::ServerUnaryReactor* UpdateManager(grpc::CallbackServerContext* context,
                                          const kam::v1::UpdateManagerRequest* request,
                                          kam::v1::Manager* response) override;
  grpc::ServerUnaryReactor* CreateAccount(grpc::CallbackServerContext* context,
                                          const kam::v1::CreateAccountRequest* request,
                                          kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context,
                                       const kam::v1::GetAccountRequest* request,
                                       kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* ListAccounts(grpc::CallbackServerContext* context,
                                         const kam::v1::ListAccountsRequest* request,
                                         kam::v1::ListAccountsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateAccount(grpc::CallbackServerContext* context,
                                          const kam::v1::UpdateAccountRequest* request,
                                          kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* CloseAccount(grpc::CallbackServerContext* context,
                                         const kam::v1::CloseAccountRequest* request,
                                         kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* AssignAccount(grpc::CallbackServerContext* context,
                                          const kam::v1::AssignAccountRequest* request,
                                          kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* ReassignAccount(grpc::CallbackServerContext* context,
                                            const kam::v1::ReassignAccountRequest* request,
                                            kam::v1::Account* response) override;
  grpc::ServerUnaryReactor* GetManagerLoad(grpc::CallbackServerContext* context,
                                           const kam::v1::GetManagerLoadRequest* request,
                                           kam::v1::ManagerLoad* response) override;
  grpc::ServerUnaryReactor* ListManagerLoads(grpc::CallbackServerContext* context,
                                             const kam::v1::ListManagerLoadsRequest* request,
                                             kam::v1::ListManagerLoadsResponse* response) override;
  grpc::ServerUnaryReactor* SuggestReassignments(
      grpc::CallbackServerContext* context, const kam::v1::SuggestReassignmentsRequest* request,
      kam::v1::SuggestReassignmentsResponse* response) override;
  grpc::ServerUnaryReactor* ImportAccounts(grpc::CallbackServerContext* context,
                                           const kam::v1::ImportAccountsRequest* request,
                                           kam::v1::ImportAccountsResponse* response) override;

 private:
  template <typename Request, typename Response, typename Local, typename Remote>
  grpc::ServerUnaryReactor* Write(grpc::CallbackServerContext* context, const char* method,
                                  const Request* request, Response* response, Local local,
                                  Remote remote);
  template <typename Response, typename Local>
  grpc::ServerUnaryReactor* Read(grpc::CallbackServerContext* context, const char* method,
                                 Response* response, Local local);

  AccountsBook* book_;
  TaskRouter* router_;
  RpcMetrics* metrics_;
};

}  // namespace kam::accounts
