#include "common/grpc_auth.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "common/logging.h"

namespace kam::auth {
namespace {

std::optional<absl::string_view> Header(const grpc::AuthMetadataProcessor::InputMetadata& metadata,
                                        absl::string_view key) {
  auto found = metadata.find(grpc::string_ref(key.data(), key.size()));
  if (found == metadata.end()) return std::nullopt;
  return absl::string_view(found->second.data(), found->second.size());
}

// The verified certificate's names under mutual TLS (SAN entries, else the CN); empty otherwise.
std::string PeerIdentity(const grpc::AuthContext& context) {
  std::vector<std::string> names;
  for (const grpc::string_ref& name : context.GetPeerIdentity()) {
    names.emplace_back(name.data(), name.size());
  }
  return absl::StrJoin(names, ",");
}

}  // namespace

CallGuard::CallGuard(const AuthFile* tokens, MetricsRegistry* metrics, RpcMetrics* rpc_metrics)
    : tokens_(tokens), rpc_metrics_(rpc_metrics) {
  constexpr char kName[] = "kam_auth_refusals_total";
  constexpr char kHelp[] = "Calls refused before their handler: no or unknown token, or no role";
  unauthenticated_ = metrics->AddCounter(kName, kHelp, {{"code", "UNAUTHENTICATED"}});
  permission_denied_ = metrics->AddCounter(kName, kHelp, {{"code", "PERMISSION_DENIED"}});
}

grpc::Status CallGuard::Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                                OutputMetadata* /*consumed_auth_metadata*/,
                                OutputMetadata* /*response_metadata*/) {
  // The token is not consumed: a call forwarded to the owner of its task carries it on, and the
  // owner decides again.
  const std::string method(Header(auth_metadata, ":path").value_or(""));
  const std::shared_ptr<const TokenTable> tokens = tokens_->Current();
  const Decision decision = Decide(*tokens, method, Header(auth_metadata, "authorization"));
  if (decision.verdict == Verdict::kAllowed) return grpc::Status::OK;

  const bool unauthenticated = decision.verdict == Verdict::kUnauthenticated;
  (unauthenticated ? unauthenticated_ : permission_denied_)->Increment();
  rpc_metrics_->Count(
      IsKamMethod(method) ? method : "unknown",
      unauthenticated ? absl::StatusCode::kUnauthenticated : absl::StatusCode::kPermissionDenied);
  const std::string peer = PeerIdentity(*context);
  log::Warn("call refused", {{"method", method},
                             {"code", unauthenticated ? "UNAUTHENTICATED" : "PERMISSION_DENIED"},
                             {"caller", decision.caller.empty() ? "unknown" : decision.caller},
                             {"peer_identity", peer.empty() ? "none" : peer},
                             {"reason", decision.message}});
  return grpc::Status(
      unauthenticated ? grpc::StatusCode::UNAUTHENTICATED : grpc::StatusCode::PERMISSION_DENIED,
      decision.message);
}

}  // namespace kam::auth
