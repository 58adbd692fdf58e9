// The ceiling for an external gRPC load generator (bench/run-ghz-bench): a process serving
// kam.v1.InteractionsService whose RecordInteraction answers OK at once, on the same callback API,
// thread model and channel arguments a kam service gets from gRPC's defaults. It prints
// "listening on 127.0.0.1:PORT" and serves until SIGTERM.
//   kam-bench-empty-server [--listen 127.0.0.1:0]
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>

#include "bench/empty_interactions.h"
#include "kam/v1/interactions.grpc.pb.h"

namespace {

using kam::bench::EmptyInteractions;

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  CLI::App app{"kam-bench-empty-server: RecordInteraction that does nothing (a ceiling)"};
  app.add_option("--listen", listen)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  EmptyInteractions service;
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "cannot listen on %s\n", listen.c_str());
    return 1;
  }
  std::printf("listening on %s:%d\n", listen.substr(0, listen.rfind(':')).c_str(), port);
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown();
  return 0;
}
