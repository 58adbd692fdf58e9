#pragma once

// Runs a kam binary as a child process for e2e tests: stdout and stderr go to files the test can
// read (the services log JSON lines to stderr), and the test can signal, kill -9 and wait for it.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kam::testing {

class Process {
 public:
  // Starts `argv[0]` with `argv`; `env` entries are added to this process's environment.
  Process(std::vector<std::string> argv, const std::string& log_prefix,
          const std::map<std::string, std::string>& env = {});
  ~Process();  // SIGKILLs the child when still running
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  void Signal(int signal);
  // Waits for exit; the exit code (or 128+signal), or nullopt at the deadline.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  bool Running();

  std::string Stdout() const;
  std::string Stderr() const;
  // The first JSON log line containing `needle`, polled until `timeout`; empty when none.
  std::string WaitForLogLine(const std::string& needle,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string stdout_path_;
  std::string stderr_path_;
};

// Runs `command` with /bin/sh and returns its standard output without the trailing newline
// (empty when it could not run).
std::string Shell(const std::string& command);

// Reads field `name` from a one-line JSON object (string values only); empty when absent.
std::string JsonField(const std::string& line, const std::string& name);

// A loopback TCP port nobody listens on right now, for programs that cannot report the port they
// bound for :0 (Alertmanager, Prometheus); -1 when none could be had.
int FreeLoopbackPort();

// The directory holding kam's binaries: KAM_BIN_DIR, else build/bin of this build.
std::string BinDir();

}  // namespace kam::testing
