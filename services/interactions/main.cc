// kam-interactions: wiring only. The service's logic lands with its own issue; until then the process
// runs the full runtime (store, outbox relay, topics, health, reflection, metrics) and its gRPC
// methods answer UNIMPLEMENTED.
#include "common/kafka/kafka_common.h"
#include "common/logging.h"
#include "common/service_host.h"
#include "kam/v1/interactions.grpc.pb.h"

int main(int argc, char** argv) {
  kam::ParseOutcome parsed = kam::ParseServiceConfig(
      argc, argv, {"kam-interactions", "127.0.0.1:50052", "127.0.0.1:9462", "var/interactions"});
  if (parsed.exit) return parsed.exit_code;

  kam::ServiceHost host(parsed.config, {.column_families = {},
                                        .output_topics = {kam::kafka_topics::kInteractions, kam::kafka_topics::kDeadLetter},
                                        .input_topics = {}});
  absl::Status opened = host.Open();
  if (!opened.ok()) {
    kam::log::Error("start failed", {{"error", opened.ToString()}});
    return 1;
  }
  kam::v1::InteractionsService::CallbackService service;
  host.AddService(&service);
  return host.Run();
}
