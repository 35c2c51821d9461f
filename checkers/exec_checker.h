// type = exec: runs a command every interval, like keepalived's vrrp_script.
// Exit status 0 is a pass; any other status, death by a signal, a failure to
// start, or running past the timeout is a failure.
//
// The command is started the way hooks are (notify::Subprocess, see
// notify/spawn_linux.h): as `run_as` (hook_user, through setpriv), with
// only the base environment (notify::base_environment(): PATH, nothing of
// the daemon's), stdin on /dev/null, no other inherited fds, cwd "/", clean
// signal state, in a process group of its own. Its end is seen through a
// pidfd in the event loop, so the loop never waits. At the timeout the whole
// group is killed (SIGKILL: a check has no cleanup worth a grace period);
// when the command exits by itself, anything it left running in its group
// is killed too, so checks cannot pile up processes.
//
// One run at a time: when the previous run is still going at the next
// interval, no second one starts (the timeout ends the first).
//
// REQUIRES: the daemon reaps only the children it spawned, by pid or pidfd
// (never waitpid(-1)), and leaves SIGCHLD at its default disposition.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checkers/checker.h"
#include "notify/run_as_linux.h"
#include "notify/spawn_linux.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/loop/periodic_timer.h"

namespace pgvrrpd::checkers {

struct ExecParams {
  std::vector<std::string> argv;  // argv[0]: absolute path. REQUIRES: not empty
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(5);
  uint32_t rise = 1;
  uint32_t fall = 1;
  // The tracking routers' hook_user, resolved (notify::resolve_hook_user);
  // nullopt: the daemon's own user.
  std::optional<notify::RunAs> run_as;
};

class ExecChecker : public Checker {
 public:
  ExecChecker(EventLoop& loop, std::string name, ExecParams params);
  // Kills a run still going (with its group) and reaps it.
  ~ExecChecker() override;
  ExecChecker(const ExecChecker&) = delete;
  ExecChecker& operator=(const ExecChecker&) = delete;

  // The first run starts at once, then one every interval.
  void start() override;

  // For tests and status output.
  bool running() const { return child_ != nullptr; }
  uint64_t runs() const { return runs_; }
  // Intervals at which no run started because the previous one was going.
  uint64_t skipped() const { return skipped_; }

 private:
  void tick();
  void spawn();
  void on_output(notify::Stream stream);
  void log_output(notify::Stream stream, std::string_view line) const;
  void on_exit();
  void on_timeout();
  void unwatch_all();
  void result(bool ok, std::string reason);

  EventLoop& loop_;
  ExecParams params_;
  Hysteresis hysteresis_;
  PeriodicTimer ticker_;  // every interval
  Timer timeout_timer_;
  std::unique_ptr<notify::Subprocess> child_;  // the run going now
  bool timed_out_ = false;
  uint64_t runs_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace pgvrrpd::checkers
