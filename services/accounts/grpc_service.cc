#include "services/accounts/grpc_service.h"

#include "common/grpc_unary.h"

namespace kam::accounts {

grpc::ServerUnaryReactor* AccountsGrpcService::CreateManager(
    grpc::CallbackServerContext* context, const kam::v1::CreateManagerRequest* request,
    kam::v1::Manager* response) {
  return AnswerUnary(context, metrics_, "CreateManager", response,
                     [&] { return book_->CreateManager(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetManager(grpc::CallbackServerContext* context,
                                                          const kam::v1::GetManagerRequest* request,
                                                          kam::v1::Manager* response) {
  return AnswerUnary(context, metrics_, "GetManager", response,
                     [&] { return book_->GetManager(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListManagers(
    grpc::CallbackServerContext* context, const kam::v1::ListManagersRequest* request,
    kam::v1::ListManagersResponse* response) {
  return AnswerUnary(context, metrics_, "ListManagers", response,
                     [&] { return book_->ListManagers(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::UpdateManager(
    grpc::CallbackServerContext* context, const kam::v1::UpdateManagerRequest* request,
    kam::v1::Manager* response) {
  return AnswerUnary(context, metrics_, "UpdateManager", response,
                     [&] { return book_->UpdateManager(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::CreateAccount(
    grpc::CallbackServerContext* context, const kam::v1::CreateAccountRequest* request,
    kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "CreateAccount", response,
                     [&] { return book_->CreateAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetAccount(grpc::CallbackServerContext* context,
                                                          const kam::v1::GetAccountRequest* request,
                                                          kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "GetAccount", response,
                     [&] { return book_->GetAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListAccounts(
    grpc::CallbackServerContext* context, const kam::v1::ListAccountsRequest* request,
    kam::v1::ListAccountsResponse* response) {
  return AnswerUnary(context, metrics_, "ListAccounts", response,
                     [&] { return book_->ListAccounts(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::UpdateAccount(
    grpc::CallbackServerContext* context, const kam::v1::UpdateAccountRequest* request,
    kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "UpdateAccount", response,
                     [&] { return book_->UpdateAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::CloseAccount(
    grpc::CallbackServerContext* context, const kam::v1::CloseAccountRequest* request,
    kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "CloseAccount", response,
                     [&] { return book_->CloseAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::AssignAccount(
    grpc::CallbackServerContext* context, const kam::v1::AssignAccountRequest* request,
    kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "AssignAccount", response,
                     [&] { return book_->AssignAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ReassignAccount(
    grpc::CallbackServerContext* context, const kam::v1::ReassignAccountRequest* request,
    kam::v1::Account* response) {
  return AnswerUnary(context, metrics_, "ReassignAccount", response,
                     [&] { return book_->ReassignAccount(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::GetManagerLoad(
    grpc::CallbackServerContext* context, const kam::v1::GetManagerLoadRequest* request,
    kam::v1::ManagerLoad* response) {
  return AnswerUnary(context, metrics_, "GetManagerLoad", response,
                     [&] { return book_->GetManagerLoad(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ListManagerLoads(
    grpc::CallbackServerContext* context, const kam::v1::ListManagerLoadsRequest* request,
    kam::v1::ListManagerLoadsResponse* response) {
  return AnswerUnary(context, metrics_, "ListManagerLoads", response,
                     [&] { return book_->ListManagerLoads(*request); });
}

grpc::ServerUnaryReactor* AccountsGrpcService::ImportAccounts(
    grpc::CallbackServerContext* context, const kam::v1::ImportAccountsRequest* request,
    kam::v1::ImportAccountsResponse* response) {
  return AnswerUnary(context, metrics_, "ImportAccounts", response,
                     [&] { return book_->ImportAccounts(*request); });
}

}  // namespace kam::accounts
