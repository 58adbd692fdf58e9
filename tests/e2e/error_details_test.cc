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

TEST(ErrorDetailsTest, EveryRefusalOfEveryRpcCarriesItsDetails) {
  const std::string brokers = testing::RealKafkaBootstrap();
  ASSERT_FALSE(brokers.empty()) << "run through ctest: needs the real_kafka fixture";
  testing::TempDir dir;
  auto accounts = testing::StartService("kam-accounts", brokers, dir.Sub("a"), dir.Sub("a-log"));
  ASSERT_TRUE(accounts.process) << accounts.address;
  auto interactions =
      testing::StartService("kam-interactions", brokers, dir.Sub("i"), dir.Sub("i-log"));
  ASSERT_TRUE(interactions.process) << interactions.address;
  auto alerts = testing::StartService("kam-alerts", brokers, dir.Sub("x"), dir.Sub("x-log"));
  ASSERT_TRUE(alerts.process) << alerts.address;

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

}  // namespace
}  // namespace kam
