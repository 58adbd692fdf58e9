#pragma once

// The gRPC face of the accounts service: translates each call to AccountsBook and its status to
// a gRPC code. No logic lives here.

#include "common/rpc_metrics.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "services/accounts/accounts_book.h"

namespace kam::accounts {

class AccountsGrpcService final : public kam::v1::AccountsService::CallbackService {
 public:
  AccountsGrpcService(AccountsBook* book, RpcMetrics* metrics) : book_(book), metrics_(metrics) {}

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
  grpc::ServerUnaryReactor* ImportAccounts(grpc::CallbackServerContext* context,
                                           const kam::v1::ImportAccountsRequest* request,
                                           kam::v1::ImportAccountsResponse* response) override;

 private:
  AccountsBook* book_;
  RpcMetrics* metrics_;
};

}  // namespace kam::accounts
