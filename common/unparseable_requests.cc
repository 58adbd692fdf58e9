#include "common/unparseable_requests.h"

#include <google/protobuf/stubs/logging.h>

#include "absl/strings/str_cat.h"
#include "common/grpc_status.h"
#include "common/logging.h"

namespace kam {
namespace {

class UnparseableRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  UnparseableRequestInterceptor(std::string method,
                                const std::function<void(const std::string&)>* on_unparseable)
      : method_(std::move(method)), on_unparseable_(on_unparseable) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using Hook = grpc::experimental::InterceptionHookPoints;
    // The server sets the received message to null when its bytes did not deserialize.
    if (methods->QueryInterceptionHookPoint(Hook::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() == nullptr) {
      unparseable_ = true;
    }
    if (unparseable_ && methods->QueryInterceptionHookPoint(Hook::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      const std::string short_name = method_.substr(method_.rfind('/') + 1);
      methods->ModifySendStatus(ToGrpcStatus(errors::WithReason(
          absl::InvalidArgumentError(
              absl::StrCat("request: the bytes do not parse as the request message of ", method_,
                           " (protobuf binary encoding); nothing was done")),
          errors::kUnparseableRequest)));
      log::Warn("request does not parse", {{"method", method_}});
      (*on_unparseable_)(short_name);
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
  const std::function<void(const std::string&)>* on_unparseable_;
  bool unparseable_ = false;
};

void ProtobufLogToJson(google::protobuf::LogLevel level, const char* filename, int line,
                       const std::string& message) {
  const std::string where = absl::StrCat(filename, ":", line);
  if (level >= google::protobuf::LOGLEVEL_ERROR) {
    log::Error("libprotobuf", {{"detail", message}, {"at", where}});
  } else if (level == google::protobuf::LOGLEVEL_WARNING) {
    log::Warn("libprotobuf", {{"detail", message}, {"at", where}});
  } else {
    log::Info("libprotobuf", {{"detail", message}, {"at", where}});
  }
}

}  // namespace

grpc::experimental::Interceptor* UnparseableRequestInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  // Only methods with a request message to parse: unknown methods have no handler to misreport.
  if (info->type() == grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING ||
      info->type() == grpc::experimental::ServerRpcInfo::Type::CLIENT_STREAMING) {
    return nullptr;
  }
  return new UnparseableRequestInterceptor(info->method(), &on_unparseable_);
}

void RouteProtobufLogsToJson() { google::protobuf::SetLogHandler(&ProtobufLogToJson); }

}  // namespace kam
