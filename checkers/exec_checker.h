// type = exec: runs a command every interval, like keepalived's vrrp_script.
// Exit status 0 is a pass; any other status, death by a signal, a failure to
// start, or running past the timeout is a failure.
//
// The command runs with posix_spawn in a process group of its own, stdin,
// stdout and stderr on /dev/null, an empty signal mask and default signal
// dispositions (the daemon blocks signals for its signalfd; a child must not
// inherit that). Its end is seen through a pidfd in the event loop, so the
// loop never waits. At the timeout the whole group is killed (SIGKILL); when
// the command exits by itself, anything it left running in its group is
// killed too, so checks cannot pile up processes.
//
// One run at a time: when the previous run is still going at the next
// interval, no second one starts (the timeout ends the first).
//
// REQUIRES: the daemon reaps only the children it spawned, by pid or pidfd
// (never waitpid(-1)), and leaves SIGCHLD at its default disposition.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "checkers/checker.h"
#include "vrrpd/loop/event_loop_linux.h"

namespace pgvrrpd::checkers {

struct ExecParams {
  std::vector<std::string> argv;  // argv[0]: absolute path. REQUIRES: not empty
  Duration interval = std::chrono::seconds(1);
  Duration timeout = std::chrono::seconds(5);
  uint32_t rise = 1;
  uint32_t fall = 1;
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
  bool running() const { return pid_ > 0; }
  uint64_t runs() const { return runs_; }
  // Intervals at which no run started because the previous one was going.
  uint64_t skipped() const { return skipped_; }

 private:
  void tick();
  void spawn();
  void on_exit();
  void on_timeout();
  void result(bool ok, std::string reason);

  EventLoop& loop_;
  ExecParams params_;
  Hysteresis hysteresis_;
  Timer interval_timer_;
  Timer timeout_timer_;
  TimePoint next_tick_{};
  pid_t pid_ = -1;
  int pidfd_ = -1;
  bool timed_out_ = false;
  uint64_t runs_ = 0;
  uint64_t skipped_ = 0;
};

}  // namespace pgvrrpd::checkers
