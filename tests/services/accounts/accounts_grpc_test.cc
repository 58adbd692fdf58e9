// The accounts API over a real in-process gRPC server on port 0: what a CRM integration sees on
// the wire, status codes and messages included.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <optional>

#include "common/metrics.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "services/accounts/grpc_service.h"
#include "tests/testing/temp_dir.h"

namespace kam::accounts {
namespace {

class AccountsGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open({.path = dir_.Sub("db")}, AccountsBook::ColumnFamilies());
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    outbox_ = std::move(*Outbox::Open(store_.get()));
    book_ = std::move(*AccountsBook::Open(store_.get(), outbox_.get(), AccountsPolicy()));
    service_ =
        std::make_unique<AccountsGrpcService>(book_.get(), /*router=*/nullptr, &rpc_metrics_);
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_GT(port, 0);
    stub_ = kam::v1::AccountsService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override { server_->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<AccountsBook> book_;
  MetricsRegistry registry_;
  RpcMetrics rpc_metrics_{&registry_};
  std::unique_ptr<AccountsGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<kam::v1::AccountsService::Stub> stub_;
};

TEST_F(AccountsGrpcTest, CreateReadAssignOverTheWire) {
  kam::v1::CreateManagerRequest create_manager;
  create_manager.set_request_id("crm-42");
  create_manager.mutable_manager()->set_name("Jane Doe");
  create_manager.mutable_manager()->set_email("jane@example.com");
  create_manager.mutable_manager()->set_industry_focus(kam::v1::INDUSTRY_GREENTECH_DIGITAL);
  kam::v1::Manager manager;
  ASSERT_TRUE(stub_->CreateManager(Context().get(), create_manager, &manager).ok());
  EXPECT_TRUE(manager.active());
  EXPECT_EQ(manager.effective_capacity(), 10);

  kam::v1::CreateAccountRequest create_account;
  create_account.set_request_id("crm-acc-1");
  auto* account = create_account.mutable_account();
  account->set_name("Solar AG");
  account->set_industry(kam::v1::INDUSTRY_GREENTECH_DIGITAL);
  account->add_regions("DE");
  account->add_regions("BR");
  account->mutable_annual_revenue()->set_amount_minor(250000000);
  account->mutable_annual_revenue()->set_currency("EUR");
  kam::v1::Account created;
  ASSERT_TRUE(stub_->CreateAccount(Context().get(), create_account, &created).ok());
  EXPECT_TRUE(created.international());
  EXPECT_EQ(created.tier(), kam::v1::TIER_A);

  kam::v1::AssignAccountRequest assign;
  assign.set_account_id(created.id());
  assign.set_manager_id(manager.id());
  assign.set_etag(created.etag());
  kam::v1::Account assigned;
  ASSERT_TRUE(stub_->AssignAccount(Context().get(), assign, &assigned).ok());
  EXPECT_EQ(assigned.owner_manager_id(), manager.id());
  // The etag moved on: the same request again is a stale write.
  grpc::Status again = stub_->AssignAccount(Context().get(), assign, &assigned);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::ABORTED);

  kam::v1::GetManagerLoadRequest get_load;
  get_load.set_manager_id(manager.id());
  kam::v1::ManagerLoad load;
  ASSERT_TRUE(stub_->GetManagerLoad(Context().get(), get_load, &load).ok());
  EXPECT_NEAR(load.load(), 1.3, 1e-9) << "A tier, international";
  EXPECT_NE(registry_.Render().find("code=\"OK\",method=\"CreateAccount\""), std::string::npos);
}

TEST_F(AccountsGrpcTest, ErrorsArriveWithTheRightCodeAndTheFieldNamed) {
  kam::v1::CreateAccountRequest bad;
  bad.mutable_account()->set_name("No industry");
  kam::v1::Account out;
  grpc::Status status = stub_->CreateAccount(Context().get(), bad, &out);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("account.industry:", 0), 0u) << status.error_message();

  kam::v1::GetAccountRequest missing;
  missing.set_id("acc_nope");
  EXPECT_EQ(stub_->GetAccount(Context().get(), missing, &out).error_code(),
            grpc::StatusCode::NOT_FOUND);

  kam::v1::ListManagersRequest forged;
  forged.set_page_token("garbage!");
  kam::v1::ListManagersResponse managers;
  status = stub_->ListManagers(Context().get(), forged, &managers);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("page_token"), std::string::npos);

  kam::v1::ImportAccountsRequest empty;
  kam::v1::ImportAccountsResponse imported;
  EXPECT_EQ(stub_->ImportAccounts(Context().get(), empty, &imported).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// What a program reads from grpc-status-details-bin: the google.rpc.Status of the call.
google::rpc::Status RichStatus(const grpc::Status& status) {
  google::rpc::Status rich;
  EXPECT_TRUE(rich.ParseFromString(status.error_details()))
      << "grpc-status-details-bin missing or unparseable";
  EXPECT_EQ(rich.code(), static_cast<int>(status.error_code()));
  EXPECT_EQ(rich.message(), status.error_message()) << "the message text stays";
  return rich;
}

template <typename Detail>
std::optional<Detail> Find(const google::rpc::Status& rich) {
  for (const auto& any : rich.details()) {
    Detail detail;
    if (any.UnpackTo(&detail)) return detail;
  }
  return std::nullopt;
}

std::string Reason(const google::rpc::Status& rich) {
  auto info = Find<google::rpc::ErrorInfo>(rich);
  EXPECT_TRUE(info.has_value()) << "every error has an ErrorInfo";
  if (!info) return "";
  EXPECT_EQ(info->domain(), "kam.v1");
  return info->reason();
}

TEST_F(AccountsGrpcTest, ErrorsCarryDetailsAProgramCanActOn) {
  // Every bad field of a create, not only the first.
  kam::v1::CreateAccountRequest bad;
  bad.mutable_account()->set_name("");
  bad.mutable_account()->add_regions("XX");
  bad.mutable_account()->mutable_annual_revenue()->set_amount_minor(-1);
  bad.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  kam::v1::Account out;
  grpc::Status status = stub_->CreateAccount(Context().get(), bad, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  google::rpc::Status rich = RichStatus(status);
  EXPECT_EQ(Reason(rich), "INVALID_FIELD");
  auto request = Find<google::rpc::BadRequest>(rich);
  ASSERT_TRUE(request.has_value());
  std::vector<std::string> fields;
  for (const auto& violation : request->field_violations()) {
    fields.push_back(violation.field());
    EXPECT_FALSE(violation.description().empty());
  }
  EXPECT_EQ(fields,
            (std::vector<std::string>{"account.name", "account.industry", "account.regions[0]",
                                      "account.annual_revenue.amount_minor"}));
  EXPECT_EQ(book_->version(), 0u) << "a refused request changes nothing";

  // NOT_FOUND names the resource.
  kam::v1::GetAccountRequest missing;
  missing.set_id("acc_nope");
  status = stub_->GetAccount(Context().get(), missing, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  rich = RichStatus(status);
  EXPECT_EQ(Reason(rich), "ACCOUNT_NOT_FOUND");
  auto resource = Find<google::rpc::ResourceInfo>(rich);
  ASSERT_TRUE(resource.has_value());
  EXPECT_EQ(resource->resource_type(), "kam.v1.Account");
  EXPECT_EQ(resource->resource_name(), "acc_nope");

  // A stale etag and a closed account are failed preconditions of their kind.
  kam::v1::CreateAccountRequest create;
  create.mutable_account()->set_name("Solar AG");
  create.mutable_account()->set_industry(kam::v1::INDUSTRY_GREENTECH_DIGITAL);
  create.mutable_account()->mutable_annual_revenue()->set_amount_minor(100);
  create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
  kam::v1::Account created;
  ASSERT_TRUE(stub_->CreateAccount(Context().get(), create, &created).ok());
  kam::v1::CloseAccountRequest close;
  close.set_id(created.id());
  close.set_etag("999");
  status = stub_->CloseAccount(Context().get(), close, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::ABORTED);
  rich = RichStatus(status);
  EXPECT_EQ(Reason(rich), "ETAG_MISMATCH");
  auto stale = Find<google::rpc::PreconditionFailure>(rich);
  ASSERT_TRUE(stale.has_value());
  ASSERT_EQ(stale->violations_size(), 1);
  EXPECT_EQ(stale->violations(0).type(), "ETAG");
  EXPECT_EQ(stale->violations(0).subject(), "accounts/" + created.id());

  close.set_etag(created.etag());
  ASSERT_TRUE(stub_->CloseAccount(Context().get(), close, &out).ok());
  close.clear_etag();
  status = stub_->CloseAccount(Context().get(), close, &out);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  rich = RichStatus(status);
  EXPECT_EQ(Reason(rich), "ACCOUNT_CLOSED");
  auto closed = Find<google::rpc::PreconditionFailure>(rich);
  ASSERT_TRUE(closed.has_value());
  EXPECT_EQ(closed->violations(0).type(), "ACCOUNT_STATE");

  // An error made without a detail of its own still has a reason and names its field.
  kam::v1::ListManagersRequest forged;
  forged.set_page_token("garbage!");
  kam::v1::ListManagersResponse managers;
  status = stub_->ListManagers(Context().get(), forged, &managers);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  rich = RichStatus(status);
  EXPECT_EQ(Reason(rich), "INVALID_FIELD");
  auto token = Find<google::rpc::BadRequest>(rich);
  ASSERT_TRUE(token.has_value());
  EXPECT_EQ(token->field_violations(0).field(), "page_token");
}

}  // namespace
}  // namespace kam::accounts
