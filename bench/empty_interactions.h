#pragma once

// The ceiling of the ingest benchmarks: kam.v1.InteractionsService whose RecordInteraction and
// BatchRecordInteractions answer OK at once, on the callback API the real service uses.

#include <grpcpp/grpcpp.h>

#include "kam/v1/interactions.grpc.pb.h"

namespace kam::bench {

class EmptyInteractions final : public kam::v1::InteractionsService::CallbackService {
  grpc::ServerUnaryReactor* RecordInteraction(grpc::CallbackServerContext* context,
                                              const kam::v1::RecordInteractionRequest*,
                                              kam::v1::Interaction*) override {
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  // One result per item, each echoing its interaction: the response a client of the real service
  // reads, so that the ceiling pays for the same serialization.
  grpc::ServerUnaryReactor* BatchRecordInteractions(
      grpc::CallbackServerContext* context, const kam::v1::BatchRecordInteractionsRequest* request,
      kam::v1::BatchRecordInteractionsResponse* response) override {
    for (int i = 0; i < request->requests_size(); ++i) {
      auto* result = response->add_results();
      result->set_index(i);
      *result->mutable_interaction() = request->requests(i).interaction();
    }
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

}  // namespace kam::bench
