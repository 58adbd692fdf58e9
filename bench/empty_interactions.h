#pragma once

// The ceiling of the ingest benchmarks: kam.v1.InteractionsService whose RecordInteraction
// answers OK at once, on the callback API the real service uses.

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
};

}  // namespace kam::bench
