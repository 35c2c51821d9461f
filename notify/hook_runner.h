// Runs one router's hooks on its transitions: one hook at a time, in
// transition order, each time-limited, its output logged line by line and
// its outcome reported. A passive object on the daemon's EventLoop: it
// watches its child's pipes and pidfd and arms its own timers; it never
// blocks the loop and never throws.
//
// Per transition the hooks are the state's own hook (on_master, on_backup,
// on_fault, on_stop), then notify, as keepalived orders notify_* and notify.
// Either may be unconfigured.
//
// Superseding (keepalived issues #996, #1991: an old transition's script ran
// after a newer one's and undid it). A hook never starts once a newer
// transition has arrived: when transition B arrives, every hook of earlier
// transitions that has not started yet is dropped (logged and reported as
// superseded), including the notify of the transition whose state hook is
// running. The running hook itself is left to finish (or time out): killing
// a half-done promote or fence is worse than letting it end. So at most one
// transition waits, the newest, and its hooks start when the running one
// ends.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notify/command.h"
#include "notify/hook_env.h"
#include "notify/run_as_linux.h"
#include "notify/spawn_linux.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/basics/time.h"

namespace pgvrrpd::notify {

// How a HookRunner runs one router's hooks: the router's hook config
// (vrrpd/config HookConfig) as the wiring resolved it (wiring/hook_setup.h).
struct HookSetup {
  HookIdentity id;
  // Indexed by HookKind; nullopt: not configured. Commands should have
  // passed check_command() at config time.
  std::array<std::optional<Command>, kHookKinds> commands;
  // hook_timeout; its default lives in the config alone. REQUIRES: > 0
  Duration timeout{};
  // After SIGTERM at the timeout, how long before SIGKILL.
  Duration kill_grace = std::chrono::seconds(2);
  // After SIGKILL, how long the hook's main process may take to die before
  // the runner gives up on it and runs the next hooks (the fence among
  // them). A process stuck in the kernel (state D: a dead disk, a hung NFS
  // mount) ignores even SIGKILL; it is reaped if it ever ends.
  Duration death_wait = std::chrono::seconds(5);
  std::optional<RunAs> run_as;  // nullopt: the daemon's own user
  EnvVars extra_env;

  std::optional<Command>& command(HookKind kind) { return commands[static_cast<size_t>(kind)]; }
  const std::optional<Command>& command(HookKind kind) const {
    return commands[static_cast<size_t>(kind)];
  }
};

struct HookResult {
  enum class Outcome : uint8_t {
    exited,        // ran to the end; see status
    timed_out,     // killed with its process group at the timeout; status says how it died
                   // (unknown, code -1, when it outlived SIGKILL and was given up on)
    spawn_failed,  // never ran; see error
    superseded,    // never started: a newer transition arrived first
  };
  HookKind kind = HookKind::notify;
  Outcome outcome = Outcome::exited;
  uint64_t transition = 0;  // the number transition() returned
  HookState state = HookState::backup;  // the state that transition entered
  ExitStatus status;
  std::string error;
  pid_t pid = -1;  // -1 when it never ran
  Duration elapsed{};
  bool success() const { return outcome == Outcome::exited && status.success(); }
};

class HookRunner {
 public:
  // Called once per configured hook of every transition, when it ends or is
  // dropped. It may call transition(); it must not destroy the runner.
  using Listener = std::function<void(const HookResult&)>;
  // Every output line, besides it being logged (tests, a status page).
  using OutputListener =
      std::function<void(HookKind kind, Stream stream, std::string_view line)>;

  // Output lines of one run that are logged; the rest are counted.
  static constexpr uint32_t kMaxLoggedLines = 200;

  HookRunner(EventLoop& loop, HookSetup config);
  // A hook still running is killed with its process group (SIGKILL) and
  // reaped, which blocks briefly (at most a second per process that
  // outlives SIGKILL); waiting hooks are dropped silently. To let on_stop
  // run at shutdown, keep the loop running until idle().
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  void set_listener(Listener listener) { listener_ = std::move(listener); }
  void set_output_listener(OutputListener listener) { output_listener_ = std::move(listener); }

  // The router entered event.state. Starts its first hook now if none is
  // running, else queues it (superseding what was queued). Returns the
  // transition's number (1, 2, ...), as found in HookResult::transition.
  uint64_t transition(HookEvent event);

  // Runs one hook that belongs to no transition (fence, rejoin) as if it
  // were a transition of its own to event.state: serialized with the
  // others, superseding what waits and superseded by later transitions.
  // Returns its number; when `kind` is not configured, reports nothing and
  // returns 0.
  uint64_t run_hook(HookKind kind, HookEvent event);

  // No hook running and none waiting.
  bool idle() const { return !running_ && !current_ && !pending_; }
  // Hooks given up on after SIGKILL that have not ended yet.
  size_t abandoned() const { return abandoned_.size(); }

 private:
  struct Job {
    uint64_t number = 0;
    HookEvent event;
    std::vector<HookKind> hooks;  // configured ones, in run order
    size_t next = 0;              // hooks[next..] have not started
  };
  struct Running {
    HookKind kind;
    uint64_t number;
    HookState state;
    std::unique_ptr<Subprocess> child;
    TimePoint started;
    bool timed_out = false;    // SIGTERM sent to the group
    bool killed = false;       // SIGKILL sent to the group
    bool main_exited = false;  // seen through the pidfd, not reaped yet
    bool kill_refused = false;  // a signal to the group failed (EPERM)
    uint32_t lines_logged = 0;
    uint64_t lines_not_logged = 0;  // beyond kMaxLoggedLines
  };

  uint64_t enqueue(Job job);
  void supersede_waiting(const Job& newer);
  void report_superseded(const Job& job, size_t from, const Job& newer);
  void start_next();
  bool start(const Job& job, HookKind kind);
  void on_output(Stream stream);
  void log_output(Running& run, Stream stream, std::string_view line);
  void on_exit();
  void on_timeout();
  void on_grace_over();
  void on_death_wait_over();
  void signal_running(int signal);
  void reap_abandoned(Subprocess* sub);
  void finish();
  void unwatch_all();
  void unwatch_all_of(const Subprocess& sub);
  void report(const HookResult& result);
  std::string_view router() const { return config_.id.router; }

  EventLoop& loop_;
  HookSetup config_;
  Listener listener_;
  OutputListener output_listener_;
  uint64_t last_number_ = 0;
  std::optional<Job> current_;  // the transition whose hooks run now
  std::optional<Job> pending_;  // the newest transition, waiting
  std::optional<Running> running_;
  Timer timeout_timer_;
  Timer grace_timer_;
  Timer death_timer_;
  std::vector<std::unique_ptr<Subprocess>> abandoned_;
};

}  // namespace pgvrrpd::notify
