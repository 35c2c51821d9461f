#include "notify/hook_runner.h"

#include <sys/epoll.h>

#include <cerrno>
#include <csignal>

#include <fmt/ranges.h>

#include "vrrpd/basics/log.h"

namespace pgvrrpd::notify {
namespace {

std::string seconds(Duration d) {
  return fmt::format("{:.3f}s", std::chrono::duration<double>(d).count());
}

std::string_view stream_tag(Stream stream) { return stream == Stream::err ? " (stderr)" : ""; }

}  // namespace

HookRunner::HookRunner(EventLoop& loop, HookSetup config)
    : loop_(loop),
      config_(std::move(config)),
      timeout_timer_(loop, [this] { on_timeout(); }),
      grace_timer_(loop, [this] { on_grace_over(); }),
      death_timer_(loop, [this] { on_death_wait_over(); }) {}

HookRunner::~HookRunner() {
  if (running_) {
    log::warning("{}: {} still running at shutdown (pid {}); killing its process group", router(),
                 hook_kind_name(running_->kind), running_->child->pid());
    unwatch_all();
  }
  for (const auto& sub : abandoned_) loop_.unwatch(sub->pid_fd());
  // ~Subprocess kills the group and reaps (waiting a second at most).
}

uint64_t HookRunner::transition(HookEvent event) {
  Job job;
  job.event = std::move(event);
  for (HookKind kind : {state_hook(job.event.state), HookKind::notify})
    if (config_.command(kind)) job.hooks.push_back(kind);
  // A transition with no hooks still supersedes: an older on_master must
  // not run after the router went back to BACKUP just because on_backup is
  // not configured.
  return enqueue(std::move(job));
}

uint64_t HookRunner::run_hook(HookKind kind, HookEvent event) {
  if (!config_.command(kind)) return 0;
  Job job;
  job.event = std::move(event);
  job.hooks.push_back(kind);
  return enqueue(std::move(job));
}

uint64_t HookRunner::enqueue(Job job) {
  job.number = ++last_number_;
  supersede_waiting(job);
  if (running_) {
    pending_ = std::move(job);
  } else {
    current_ = std::move(job);
    start_next();
  }
  return last_number_;
}

void HookRunner::supersede_waiting(const Job& newer) {
  // Take the jobs out first: the listener may call transition() again.
  std::optional<Job> current = std::move(current_);
  std::optional<Job> pending = std::move(pending_);
  current_.reset();
  pending_.reset();
  if (current) report_superseded(*current, current->next, newer);
  if (pending) report_superseded(*pending, 0, newer);
}

void HookRunner::report_superseded(const Job& job, size_t from, const Job& newer) {
  for (size_t i = from; i < job.hooks.size(); ++i) {
    log::info("{}: {} for transition to {} skipped: superseded by the transition to {}",
              router(), hook_kind_name(job.hooks[i]), hook_state_name(job.event.state),
              hook_state_name(newer.event.state));
    HookResult result;
    result.kind = job.hooks[i];
    result.outcome = HookResult::Outcome::superseded;
    result.transition = job.number;
    result.state = job.event.state;
    report(result);
  }
}

void HookRunner::start_next() {
  // The listener (called on spawn failures) may start a hook itself.
  while (!running_) {
    if (!current_ || current_->next >= current_->hooks.size()) {
      current_ = std::move(pending_);
      pending_.reset();
      if (!current_) return;
      continue;
    }
    HookKind kind = current_->hooks[current_->next++];
    if (start(*current_, kind)) return;
  }
}

bool HookRunner::start(const Job& job, HookKind kind) {
  const Command& command = *config_.command(kind);
  auto argv = run_as_argv(hook_argv(command.argv, config_.id, job.event), config_.run_as);
  auto env = hook_environment(config_.id, kind, job.event, config_.extra_env);
  HookResult failure;
  failure.kind = kind;
  failure.outcome = HookResult::Outcome::spawn_failed;
  failure.transition = job.number;
  failure.state = job.event.state;

  auto child = Subprocess::spawn(argv, env);
  if (!child) {
    failure.error = child.status().message();
    log::error("{}: {} for transition to {} could not start: {}", router(), hook_kind_name(kind),
               hook_state_name(job.event.state), failure.error);
    report(failure);
    return false;
  }
  running_.emplace(Running{kind, job.number, job.event.state, std::move(*child), loop_.now()});
  Subprocess& sub = *running_->child;
  Status watched = loop_.watch(sub.pid_fd(), EPOLLIN, [this](uint32_t) { on_exit(); });
  for (Stream stream : {Stream::out, Stream::err}) {
    if (!watched) break;
    watched = loop_.watch(sub.fd(stream), EPOLLIN, [this, stream](uint32_t) { on_output(stream); });
  }
  if (!watched) {
    // Unwatched, its exit or output could go unseen: do not run it at all.
    failure.error = watched.message();
    failure.pid = sub.pid();
    log::error("{}: {} for transition to {} could not be watched: {}", router(),
               hook_kind_name(kind), hook_state_name(job.event.state), failure.error);
    unwatch_all();
    running_.reset();  // kills and reaps
    report(failure);
    return false;
  }
  log::info("{}: {} started for transition to {} (pid {}): {}", router(), hook_kind_name(kind),
            hook_state_name(job.event.state), sub.pid(), fmt::join(command.argv, " "));
  timeout_timer_.arm(running_->started + config_.timeout);
  return true;
}

void HookRunner::on_output(Stream stream) {
  if (!running_) return;
  Subprocess& sub = *running_->child;
  int fd = sub.fd(stream);
  HookKind kind = running_->kind;
  bool open = sub.read(stream, [&](std::string_view line) {
    log_output(*running_, stream, line);
    if (output_listener_) output_listener_(kind, stream, line);
  });
  // At EOF read() closed the fd, which already took it out of epoll; this
  // drops the loop's callback.
  if (!open && fd >= 0) loop_.unwatch(fd);
}

void HookRunner::log_output(Running& run, Stream stream, std::string_view line) {
  // A chatty or hostile hook must not flood syslog (or stall the loop on
  // it): the pipe is still read to the end, the log gets the first lines.
  if (run.lines_logged >= kMaxLoggedLines) {
    ++run.lines_not_logged;
    return;
  }
  ++run.lines_logged;
  log::info("{} {}{}: {}", router(), hook_kind_name(run.kind), stream_tag(stream), line);
}

void HookRunner::on_exit() {
  if (!running_ || running_->main_exited || !running_->child->exited()) return;
  running_->main_exited = true;
  // The pidfd stays readable while the zombie is kept; stop watching it.
  loop_.unwatch(running_->child->pid_fd());
  // After a timeout the rest of the group may still be alive; the zombie
  // keeps the group id reserved until SIGKILL at the end of the grace.
  if (running_->timed_out && !running_->killed) return;
  finish();
}

void HookRunner::on_timeout() {
  if (!running_) return;
  log::warning("{}: {} timed out after {} (pid {}); sending SIGTERM to its process group",
               router(), hook_kind_name(running_->kind), seconds(config_.timeout),
               running_->child->pid());
  running_->timed_out = true;
  signal_running(SIGTERM);
  grace_timer_.arm(loop_.now() + config_.kill_grace);
}

void HookRunner::on_grace_over() {
  if (!running_) return;
  // Unconditional: children that ignore SIGTERM or outlived the hook's main
  // process are in the group too.
  signal_running(SIGKILL);
  running_->killed = true;
  if (running_->main_exited) return finish();
  // Otherwise the pidfd reports the death, unless the process is stuck in
  // the kernel, where even SIGKILL waits.
  death_timer_.arm(loop_.now() + config_.death_wait);
}

void HookRunner::on_death_wait_over() {
  if (!running_ || running_->main_exited) return;
  Running run = std::move(*running_);
  running_.reset();
  timeout_timer_.disarm();
  grace_timer_.disarm();
  Subprocess* sub = run.child.get();
  if (run.kill_refused)
    log::error("{}: {} (pid {}) could not be killed and still runs {} later; giving up on it "
               "so that the next hooks run",
               router(), hook_kind_name(run.kind), sub->pid(), seconds(config_.death_wait));
  else
    log::error("{}: {} (pid {}) still there {} after SIGKILL: stuck in the kernel (state D: a "
               "dead disk, a hung NFS mount?); giving up on it so that the next hooks run",
               router(), hook_kind_name(run.kind), sub->pid(), seconds(config_.death_wait));
  unwatch_all_of(*sub);
  // Its pidfd still tells when it ends, to reap it then.
  if (!loop_.watch(sub->pid_fd(), EPOLLIN, [this, sub](uint32_t) { reap_abandoned(sub); }))
    log::warning("{}: cannot watch the abandoned {} (pid {}); it is reaped at shutdown",
                 router(), hook_kind_name(run.kind), sub->pid());
  abandoned_.push_back(std::move(run.child));
  HookResult result;
  result.kind = run.kind;
  result.transition = run.number;
  result.state = run.state;
  result.pid = sub->pid();
  result.status = ExitStatus{false, -1};
  result.elapsed = loop_.now() - run.started;
  result.outcome = HookResult::Outcome::timed_out;
  report(result);
  start_next();
}

void HookRunner::signal_running(int signal) {
  Status sent = running_->child->signal_group(signal);
  if (sent) return;
  running_->kill_refused = true;
  // EPERM: the hook runs as hook_user and this process may not signal
  // another user's processes; a timeout that cannot kill is no timeout.
  log::error("{}: cannot stop {} (pid {}) with {}: {}{}", router(),
             hook_kind_name(running_->kind), running_->child->pid(),
             signal == SIGKILL ? "SIGKILL" : "SIGTERM", sent.message(),
             sent.error_number() == EPERM
                 ? " (pgvrrpd needs CAP_KILL to signal hooks that run as another user; "
                   "see the systemd unit's CapabilityBoundingSet)"
                 : "");
}

void HookRunner::reap_abandoned(Subprocess* sub) {
  if (!sub->exited()) return;
  loop_.unwatch(sub->pid_fd());
  ExitStatus status = sub->reap();
  log::warning("{}: the hook given up on (pid {}) has ended: {}", router(), sub->pid(),
               status.describe());
  std::erase_if(abandoned_, [sub](const auto& p) { return p.get() == sub; });
}

void HookRunner::finish() {
  timeout_timer_.disarm();
  grace_timer_.disarm();
  death_timer_.disarm();
  Running run = std::move(*running_);
  running_.reset();
  Subprocess& sub = *run.child;
  unwatch_all_of(sub);
  for (Stream stream : {Stream::out, Stream::err}) {
    sub.drain_and_close(stream, [&](std::string_view line) {
      log_output(run, stream, line);
      if (output_listener_) output_listener_(run.kind, stream, line);
    });
  }
  if (run.lines_not_logged > 0)
    log::warning("{} {}: {} more output lines not logged (at most {} per run)", router(),
                 hook_kind_name(run.kind), run.lines_not_logged, kMaxLoggedLines);
  HookResult result;
  result.kind = run.kind;
  result.transition = run.number;
  result.state = run.state;
  result.pid = sub.pid();
  result.status = sub.reap();
  result.elapsed = loop_.now() - run.started;
  result.outcome = run.timed_out ? HookResult::Outcome::timed_out : HookResult::Outcome::exited;
  if (run.timed_out) {
    log::warning("{}: {} timed out and was killed with its process group ({}) after {}",
                 router(), hook_kind_name(run.kind), result.status.describe(),
                 seconds(result.elapsed));
  } else if (result.status.success()) {
    log::info("{}: {} {} after {}", router(), hook_kind_name(run.kind), result.status.describe(),
              seconds(result.elapsed));
  } else {
    log::warning("{}: {} {} after {}", router(), hook_kind_name(run.kind),
                 result.status.describe(), seconds(result.elapsed));
  }
  // Background processes a hook started on purpose are left alone, but an
  // operator should know the hook did not clean up after itself.
  if (!run.timed_out && sub.group_has_members())
    log::warning("{}: {} left processes running in its process group {}", router(),
                 hook_kind_name(run.kind), sub.pid());
  run.child.reset();
  report(result);
  start_next();
}

void HookRunner::unwatch_all() {
  if (running_) unwatch_all_of(*running_->child);
}

void HookRunner::unwatch_all_of(const Subprocess& sub) {
  // unwatch() tolerates fds that are closed or were never watched.
  for (int fd : {sub.pid_fd(), sub.fd(Stream::out), sub.fd(Stream::err)})
    if (fd >= 0) loop_.unwatch(fd);
}

void HookRunner::report(const HookResult& result) {
  if (listener_) listener_(result);
}

}  // namespace pgvrrpd::notify
