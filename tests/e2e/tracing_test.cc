// One interaction followed to the alert it caused by its trace id (W3C traceparent): the caller's
// trace comes back in `traceresponse`, travels in the Kafka header of the interaction's event --
// also when the instance that took the call forwarded it to the owner of the account's task -- and
// ends in the CloudEvent of the alert (the distributed tracing extension) and in kam-alerts' log.
// A call without a traceparent, or with a malformed one, starts a trace of its own.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/trace_context.h"
#include "kam/v1/accounts.grpc.pb.h"
#include "kam/v1/alerts.grpc.pb.h"
#include "kam/v1/events.pb.h"
#include "kam/v1/interactions.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "tests/testing/grpc_call.h"
#include "tests/testing/service_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/topic_reader.h"

namespace kam {
namespace {

// The call's `traceresponse`, parsed (nullopt when absent or malformed).
std::optional<trace::TraceContext> TraceResponse(const grpc::ClientContext& context) {
  auto found = context.GetServerInitialMetadata().find(trace::kTraceresponse);
  if (found == context.GetServerInitialMetadata().end()) return std::nullopt;
  return trace::Parse(std::string_view(found->second.data(), found->second.size()));
}

std::string TraceIdOf(const std::string& traceparent) {
  std::optional<trace::TraceContext> parsed = trace::Parse(traceparent);
  return parsed ? parsed->trace_id : "";
}

class TracingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    brokers_ = testing::RealKafkaBootstrap();
    ASSERT_FALSE(brokers_.empty()) << "run through ctest: needs the real_kafka fixture";
    const std::string group =
        "kam-interactions-tracing-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
    accounts_ = testing::StartService("kam-accounts", brokers_, dir_.Sub("a"), dir_.Sub("a-log"));
    ASSERT_TRUE(accounts_.process) << accounts_.address;
    for (const char* name : {"i1", "i2"}) {
      interactions_.push_back(testing::StartService(
          "kam-interactions", brokers_, dir_.Sub(name), dir_.Sub(std::string(name) + "-log"),
          {"--consumer-group", group, "--instance-id", name, "--session-timeout-ms", "6000"}));
      ASSERT_TRUE(interactions_.back().process) << interactions_.back().address;
    }
    alerts_ = testing::StartService("kam-alerts", brokers_, dir_.Sub("x"), dir_.Sub("x-log"),
                                    {"--idle-seconds", "2"});
    ASSERT_TRUE(alerts_.process) << alerts_.address;
    accounts_stub_ = testing::StubFor<kam::v1::AccountsService>(accounts_.address);
    // Every call goes to i1: the accounts whose task i2 runs are forwarded there.
    interactions_stub_ = testing::StubFor<kam::v1::InteractionsService>(interactions_[0].address);
  }

  std::string brokers_;
  testing::TempDir dir_;
  testing::RunningService accounts_, alerts_;
  std::vector<testing::RunningService> interactions_;
  std::unique_ptr<kam::v1::AccountsService::Stub> accounts_stub_;
  std::unique_ptr<kam::v1::InteractionsService::Stub> interactions_stub_;
};

TEST_F(TracingTest, AChurnNoticeIsFollowedByItsTraceIdToTheAlertItRaises) {
  const std::string tag =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  // Accounts until one is served by i2 (the forwarding hop), at most 20.
  struct Traced {
    std::string account_id;
    std::string interaction_id;
    trace::TraceContext sent;
  };
  std::vector<Traced> traced;
  bool forwarded = false;
  for (int n = 0; n < 20 && !forwarded; ++n) {
    kam::v1::CreateAccountRequest create;
    create.set_request_id("trace-" + tag + "-" + std::to_string(n));
    create.mutable_account()->set_name("Traced " + tag + " " + std::to_string(n));
    create.mutable_account()->set_industry(kam::v1::INDUSTRY_SERVICES);
    create.mutable_account()->mutable_annual_revenue()->set_amount_minor(100'000'00);
    create.mutable_account()->mutable_annual_revenue()->set_currency("EUR");
    const trace::TraceContext create_trace = trace::NewRoot();
    kam::v1::Account account;
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      context.AddMetadata(trace::kTraceparent, trace::Format(create_trace));
      grpc::Status status = accounts_stub_->CreateAccount(&context, create, &account);
      ASSERT_TRUE(status.ok()) << status.error_message();
      std::optional<trace::TraceContext> answered = TraceResponse(context);
      ASSERT_TRUE(answered) << "traceresponse is sent back";
      EXPECT_EQ(answered->trace_id, create_trace.trace_id) << "the caller's trace continues";
      EXPECT_NE(answered->span_id, create_trace.span_id) << "in a span of the service's own";
    }

    Traced item{account.id(), "int" + tag + "x" + std::to_string(n), trace::NewRoot()};
    kam::v1::RecordInteractionRequest record;
    record.set_request_id("trace-" + item.interaction_id);
    record.mutable_interaction()->set_id(item.interaction_id);
    record.mutable_interaction()->set_account_id(account.id());
    record.mutable_interaction()->set_type(kam::v1::INTERACTION_TYPE_CHURN_NOTICE);
    grpc::Status status;
    std::optional<trace::TraceContext> answered;
    // The account may not have reached kam-interactions yet, or a task may be moving: retried.
    ASSERT_TRUE(testing::WaitFor([&] {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      context.AddMetadata(trace::kTraceparent, trace::Format(item.sent));
      kam::v1::Interaction recorded;
      status = interactions_stub_->RecordInteraction(&context, record, &recorded);
      answered = TraceResponse(context);
      return status.ok();
    })) << status.error_message();
    ASSERT_TRUE(answered);
    EXPECT_EQ(answered->trace_id, item.sent.trace_id);
    traced.push_back(item);

    // The interaction's event carries the call's trace, whichever instance wrote it.
    std::string producer;
    ASSERT_TRUE(testing::WaitFor([&] {
      for (const auto& event : testing::ReadTopic(brokers_, "kam.interactions.v1")) {
        kam::v1::EventEnvelope envelope;
        if (!envelope.ParseFromString(event.value) || !envelope.has_interaction_recorded() ||
            envelope.interaction_recorded().interaction().id() != item.interaction_id) {
          continue;
        }
        auto header = event.headers.find("traceparent");
        EXPECT_TRUE(header != event.headers.end()) << "no traceparent header";
        if (header != event.headers.end()) {
          EXPECT_EQ(TraceIdOf(header->second), item.sent.trace_id);
        }
        producer = event.headers.count("kam-producer") ? event.headers.at("kam-producer") : "";
        return true;
      }
      return false;
    })) << item.interaction_id
        << " never reached kam.interactions.v1";
    forwarded = producer == interactions_[1].producer;
  }
  EXPECT_TRUE(forwarded) << "no account of 20 was served by the second instance";

  // Each churn notice raised CHURN_RISK; its CloudEvent continues the notice's trace.
  for (const Traced& item : traced) {
    std::string cloud_event_trace;
    std::string header_trace;
    ASSERT_TRUE(testing::WaitFor(
        [&] {
          for (const auto& event : testing::ReadTopic(brokers_, "kam.alerts.v1")) {
            nlohmann::json cloud_event = nlohmann::json::parse(event.value, nullptr, false);
            if (cloud_event.is_discarded() || !cloud_event.contains("data") ||
                cloud_event["data"].value("account_id", "") != item.account_id ||
                cloud_event["data"].value("rule", "") != "ALERT_RULE_CHURN_RISK") {
              continue;
            }
            cloud_event_trace = cloud_event.value("traceparent", "");
            header_trace =
                event.headers.count("traceparent") ? event.headers.at("traceparent") : "";
            return true;
          }
          return false;
        },
        std::chrono::seconds(60)))
        << "no CHURN_RISK CloudEvent for " << item.account_id;
    EXPECT_EQ(TraceIdOf(cloud_event_trace), item.sent.trace_id) << cloud_event_trace;
    EXPECT_EQ(TraceIdOf(header_trace), item.sent.trace_id) << header_trace;
    // And kam-alerts logged the change under the same trace id: one grep finds it.
    EXPECT_TRUE(testing::WaitFor([&] {
      const std::string log = alerts_.process->Stderr();
      size_t at = 0;
      while ((at = log.find("\"trace_id\":\"" + item.sent.trace_id + "\"", at)) !=
             std::string::npos) {
        const size_t line = log.rfind('\n', at);
        if (log.find("alert changed", line == std::string::npos ? 0 : line) < at) return true;
        ++at;
      }
      return false;
    })) << "kam-alerts logged no alert change with trace id "
        << item.sent.trace_id;
  }

  // An acknowledgement through the API continues its caller's trace into the CloudEvent.
  {
    // The churn alert of the first account, as its last change left it.
    std::string alert_id, etag, state;
    for (const auto& event : testing::ReadTopic(brokers_, "kam.alerts.v1")) {
      nlohmann::json cloud_event = nlohmann::json::parse(event.value, nullptr, false);
      if (!cloud_event.is_discarded() && cloud_event.contains("data") &&
          cloud_event["data"].value("account_id", "") == traced.front().account_id &&
          cloud_event["data"].value("rule", "") == "ALERT_RULE_CHURN_RISK") {
        alert_id = cloud_event["data"].value("id", "");
        etag = cloud_event["data"].value("etag", "");
        state = cloud_event["data"].value("state", "");
      }
    }
    ASSERT_FALSE(alert_id.empty());
    ASSERT_EQ(state, "ALERT_STATE_FIRING");
    auto alerts_stub = testing::StubFor<kam::v1::AlertsService>(alerts_.address);
    const trace::TraceContext ack_trace = trace::NewRoot();
    kam::v1::AcknowledgeAlertRequest ack;
    ack.set_id(alert_id);
    ack.set_etag(etag);
    ack.set_acknowledged_by("tracing-test");
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    context.AddMetadata(trace::kTraceparent, trace::Format(ack_trace));
    kam::v1::Alert acknowledged;
    grpc::Status status = alerts_stub->AcknowledgeAlert(&context, ack, &acknowledged);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::string seen;
    EXPECT_TRUE(testing::WaitFor([&] {
      for (const auto& event : testing::ReadTopic(brokers_, "kam.alerts.v1")) {
        nlohmann::json cloud_event = nlohmann::json::parse(event.value, nullptr, false);
        if (!cloud_event.is_discarded() &&
            cloud_event.value("type", "") == "dev.kam.alert.acknowledged" &&
            cloud_event["data"].value("id", "") == alert_id) {
          seen = cloud_event.dump().substr(0, 600);
          return TraceIdOf(cloud_event.value("traceparent", "")) == ack_trace.trace_id;
        }
      }
      return false;
    })) << "the ACKNOWLEDGED CloudEvent does not continue the acknowledging call's trace "
        << ack_trace.trace_id << ": " << seen;
  }

  // No traceparent, or a malformed one: the service starts a new trace each time and says which.
  const std::string zero_trace = "00000000000000000000000000000000";
  for (const std::string& sent :
       {std::string(), std::string("00-XYZ-bad-01"), "00-" + zero_trace + "-0000000000000001-01"}) {
    std::vector<std::string> answered_ids;
    for (int attempt = 0; attempt < 2; ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
      if (!sent.empty()) context.AddMetadata(trace::kTraceparent, sent);
      kam::v1::GetAccountRequest get;
      get.set_id(traced.front().account_id);
      kam::v1::Account account;
      ASSERT_TRUE(accounts_stub_->GetAccount(&context, get, &account).ok());
      std::optional<trace::TraceContext> answered = TraceResponse(context);
      ASSERT_TRUE(answered) << "sent: '" << sent << "'";
      answered_ids.push_back(answered->trace_id);
    }
    EXPECT_NE(answered_ids[0], answered_ids[1]) << "a fresh trace per call, sent: '" << sent << "'";
  }
}

}  // namespace
}  // namespace kam
