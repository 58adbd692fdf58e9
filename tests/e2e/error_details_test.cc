// Every refusal of every unary RPC carries the machine-readable details docs/API.md promises: a
// google.rpc.Status in grpc-status-details-bin with the call's code and message and an ErrorInfo
// (domain kam.v1, a reason); INVALID_ARGUMENT also a BadRequest naming a field, NOT_FOUND a
// ResourceInfo. Each method of the three services (found in their descriptors, so a new RPC is
// covered without touching this test) gets an empty request and one naming resources that do
// not exist.

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <future>
#include <optional>
#include <thread>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "kam/v1/kpis.grpc.pb.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"

namespace kam {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

// The request with every string field at the top level and one level down set to a missing id.
void NameMissingResources(Message* request) {
  const auto* reflection = request->GetReflection();
  for (int i = 0; i < request->GetDescriptor()->field_count(); ++i) {
    const FieldDescriptor* field = request->GetDescriptor()->field(i);
    if (field->is_repeated()) continue;
    if (field->type() == FieldDescriptor::TYPE_STRING && field->name() != "page_token" &&
        field->name() != "resume_token" && field->name() != "etag") {
      reflection->SetString(request, field, "missing_" + field->name());
    } else if (field->type() == FieldDescriptor::TYPE_MESSAGE &&
               field->message_type()->FindFieldByName("id") != nullptr) {
      Message* inner = reflection->MutableMessage(request, field);
      inner->GetReflection()->SetString(inner, inner->GetDescriptor()->FindFieldByName("id"),
                                        "missing_id");
    }
  }
}

grpc::Status Call(grpc::GenericStub& stub, const std::string& method, const Message& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  std::string bytes = request.SerializeAsString();
  grpc::Slice slice(bytes);
  grpc::ByteBuffer sent(&slice, 1), received;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, method, grpc::StubOptions(), &sent, &received,
                 [&](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

TEST(RichErrorsTest, EveryRefusalOfEveryRpcCarriesItsDetails) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const testing::RunningPlatform platform = testing::StartPlatform(brokers, dir.path());
  ASSERT_EQ(platform.failure, "");
  // References, not a structured binding: clang 14 cannot capture bindings in lambdas.
  const testing::RunningService& accounts = platform.accounts;
  const testing::RunningService& interactions = platform.interactions;
  const testing::RunningService& alerts = platform.alerts;

  // A message of each file: asking for its descriptor links the file's descriptors in.
  const std::vector<std::tuple<std::string, const google::protobuf::FileDescriptor*, std::string>>
      services = {
          {"kam.v1.AccountsService", kam::v1::GetAccountRequest::descriptor()->file(),
           accounts.address},
          {"kam.v1.InteractionsService", kam::v1::GetInteractionRequest::descriptor()->file(),
           interactions.address},
          {"kam.v1.AlertsService", kam::v1::GetAlertRequest::descriptor()->file(), alerts.address},
          {"kam.v1.KpiService", kam::v1::GetKpisRequest::descriptor()->file(), alerts.address}};
  google::protobuf::DynamicMessageFactory factory;
  int refusals = 0, invalid = 0, not_found = 0;
  for (const auto& [name, file, address] : services) {
    const auto* service = file->pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    grpc::GenericStub stub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    for (int m = 0; m < service->method_count(); ++m) {
      const auto* method = service->method(m);
      if (method->server_streaming() || method->client_streaming()) continue;
      const std::string path = "/" + name + "/" + method->name();
      std::unique_ptr<Message> empty(factory.GetPrototype(method->input_type())->New());
      std::unique_ptr<Message> missing(empty->New());
      NameMissingResources(missing.get());
      for (const Message* request : {empty.get(), missing.get()}) {
        const grpc::Status status = Call(stub, path, *request);
        if (status.ok()) continue;
        ++refusals;
        SCOPED_TRACE(path + " " + request->ShortDebugString() + " -> " + status.error_message());
        ASSERT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
        google::rpc::Status rich;
        ASSERT_TRUE(rich.ParseFromString(status.error_details()));
        EXPECT_EQ(rich.code(), static_cast<int>(status.error_code()));
        EXPECT_EQ(rich.message(), status.error_message());
        bool info = false, bad_request = false, resource = false;
        for (const auto& any : rich.details()) {
          google::rpc::ErrorInfo error_info;
          if (any.UnpackTo(&error_info)) {
            info = true;
            EXPECT_EQ(error_info.domain(), "kam.v1");
            EXPECT_FALSE(error_info.reason().empty());
          }
          bad_request |= any.Is<google::rpc::BadRequest>();
          resource |= any.Is<google::rpc::ResourceInfo>();
        }
        EXPECT_TRUE(info) << "an ErrorInfo";
        if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
          ++invalid;
          EXPECT_TRUE(bad_request) << "INVALID_ARGUMENT names its field";
        }
        if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          ++not_found;
          EXPECT_TRUE(resource) << "NOT_FOUND names the resource";
        }
      }
    }
  }
  // The requests above must really be refused, or this test checks nothing.
  EXPECT_GE(invalid, 15);
  EXPECT_GE(not_found, 8);
  std::printf("%d refusals checked (%d INVALID_ARGUMENT, %d NOT_FOUND)\n", refusals, invalid,
              not_found);
}

template <typename Detail>
std::optional<Detail> Find(const grpc::Status& status) {
  google::rpc::Status rich;
  if (!rich.ParseFromString(status.error_details())) return std::nullopt;
  for (const auto& any : rich.details()) {
    Detail detail;
    if (any.UnpackTo(&detail)) return detail;
  }
  return std::nullopt;
}

std::string Reason(const grpc::Status& status) {
  auto info = Find<google::rpc::ErrorInfo>(status);
  return info ? info->reason() : "(no ErrorInfo)";
}

std::unique_ptr<grpc::ClientContext> Deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return context;
}

// The refusals that need a state first, each with its reason and detail: a reused request id, a
// closed account on the interactions service, and a stale etag on an alert -- an alert write is
// applied by the instance that runs the alert's task and answered by the one that was called,
// so its details travel with the command's result.
TEST(RichErrorsTest, RefusalsOfStateCarryTheirReasonAcrossServices) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  const testing::RunningPlatform platform = testing::StartPlatform(brokers, dir.path());
  ASSERT_EQ(platform.failure, "");
  // References, not a structured binding: clang 14 cannot capture bindings in lambdas.
  const testing::RunningService& accounts = platform.accounts;
  const testing::RunningService& interactions = platform.interactions;
  const testing::RunningService& alerts = platform.alerts;
  auto accounts_stub = kam::v1::AccountsService::NewStub(
      grpc::CreateChannel(accounts.address, grpc::InsecureChannelCredentials()));
  auto interactions_stub = kam::v1::InteractionsService::NewStub(
      grpc::CreateChannel(interactions.address, grpc::InsecureChannelCredentials()));
  auto alerts_stub = kam::v1::AlertsService::NewStub(
      grpc::CreateChannel(alerts.address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext watch_context;
  watch_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto watch = alerts_stub->WatchAlerts(&watch_context, kam::v1::WatchAlertsRequest());

  kam::v1::CreateManagerRequest create_manager;
  create_manager.set_request_id("crm-manager-1");
  create_manager.mutable_manager()->set_name("Tight Tom");
  create_manager.mutable_manager()->set_email("tom@example.com");
  create_manager.mutable_manager()->set_capacity(1);
  kam::v1::Manager tom;
  ASSERT_TRUE(accounts_stub->CreateManager(Deadline().get(), create_manager, &tom).ok());
  create_manager.mutable_manager()->set_email("thomas@example.com");
  kam::v1::Manager other;
  grpc::Status reused = accounts_stub->CreateManager(Deadline().get(), create_manager, &other);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(reused), "REQUEST_ID_REUSED");
  ASSERT_TRUE(Find<google::rpc::ErrorInfo>(reused).has_value());
  EXPECT_EQ(Find<google::rpc::ErrorInfo>(reused)->metadata().at("resource_id"), tom.id());

  std::vector<kam::v1::Account> owned;
  for (int i = 0; i < 3; ++i) {
    kam::v1::CreateAccountRequest create;
    create.mutable_account()->set_name("Customer " + std::to_string(i));
    create.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    create.mutable_account()->mutable_annual_revenue()->set_amount_minor(500000000);
    create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    create.mutable_account()->set_owner_manager_id(tom.id());
    kam::v1::Account account;
    ASSERT_TRUE(accounts_stub->CreateAccount(Deadline().get(), create, &account).ok());
    owned.push_back(account);
  }
  kam::v1::CloseAccountRequest close;
  close.set_id(owned[2].id());
  kam::v1::Account closed;
  ASSERT_TRUE(accounts_stub->CloseAccount(Deadline().get(), close, &closed).ok());
  kam::v1::RecordInteractionRequest call;
  call.mutable_interaction()->set_account_id(closed.id());
  call.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_CALL);
  grpc::Status refused;
  kam::v1::Interaction recorded;
  // The account and its closing reach kam-interactions through Kafka: until then the call is
  // refused as NOT_FOUND, or accepted.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    refused = interactions_stub->RecordInteraction(Deadline().get(), call, &recorded);
    if (refused.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while ((refused.ok() || refused.error_code() == grpc::StatusCode::NOT_FOUND) &&
           std::chrono::steady_clock::now() < until);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << refused.error_message();
  EXPECT_EQ(Reason(refused), "ACCOUNT_CLOSED");
  auto state = Find<google::rpc::PreconditionFailure>(refused);
  ASSERT_TRUE(state.has_value());
  EXPECT_EQ(state->violations(0).type(), "ACCOUNT_STATE");
  EXPECT_EQ(state->violations(0).subject(), "accounts/" + closed.id());

  kam::v1::AlertChange change;
  std::optional<kam::v1::Alert> overload;
  while (!overload && watch->Read(&change)) {
    if (change.alert().rule() == kam::v1::ALERT_RULE_MANAGER_OVERLOADED &&
        change.alert().manager_id() == tom.id()) {
      overload = change.alert();
    }
  }
  watch_context.TryCancel();
  ASSERT_TRUE(overload.has_value()) << "two accounts overload a manager of capacity 1";
  kam::v1::AcknowledgeAlertRequest acknowledge;
  acknowledge.set_id(overload->id());
  acknowledge.set_etag("stale");
  acknowledge.set_acknowledged_by("ops@example.com");
  kam::v1::Alert acknowledged;
  grpc::Status stale = alerts_stub->AcknowledgeAlert(Deadline().get(), acknowledge, &acknowledged);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED) << stale.error_message();
  EXPECT_EQ(Reason(stale), "ETAG_MISMATCH");
  auto etag = Find<google::rpc::PreconditionFailure>(stale);
  ASSERT_TRUE(etag.has_value());
  EXPECT_EQ(etag->violations(0).type(), "ETAG");
  EXPECT_EQ(etag->violations(0).subject(), "alerts/" + overload->id());
}

}  // namespace
}  // namespace kam
