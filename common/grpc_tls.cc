#include "common/grpc_tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace kam {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in || text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": cannot read a PEM file at \"", path, "\""));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const TlsFiles& files) {
  KAM_RETURN_IF_ERROR(CheckTlsFiles(files));
  if (!files.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  KAM_ASSIGN_OR_RETURN(pair.private_key, ReadPem(files.key, "--tls-key"));
  KAM_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(files.cert, "--tls-cert"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!files.client_ca.empty()) {
    KAM_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(files.client_ca, "--tls-client-ca"));
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const TlsFiles& files) {
  // Any TLS file means TLS: a server that serves TLS never forwards in plaintext, and a client
  // given a certificate never falls back to plaintext. Without a CA, the system's roots verify.
  if (files.ca.empty() && files.cert.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  if (!files.ca.empty()) {
    KAM_ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(files.ca, "--tls-ca"));
  }
  if (!files.cert.empty()) {
    KAM_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadPem(files.cert, "--tls-cert"));
    KAM_ASSIGN_OR_RETURN(options.pem_private_key, ReadPem(files.key, "--tls-key"));
  }
  return grpc::SslCredentials(options);
}

}  // namespace kam
