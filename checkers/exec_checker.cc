#include "checkers/exec_checker.h"

#include <sys/epoll.h>

#include <csignal>
#include <string_view>

#include <fmt/format.h>

#include "notify/hook_env.h"
#include "vrrpd/basics/log.h"

namespace pgvrrpd::checkers {
namespace {

using notify::Stream;

std::string seconds_text(Duration d) {
  return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
}

}  // namespace

ExecChecker::ExecChecker(EventLoop& loop, std::string name, ExecParams params)
    : Checker(std::move(name)),
      loop_(loop),
      params_(std::move(params)),
      hysteresis_(params_.rise, params_.fall),
      ticker_(loop, params_.interval, [this] { tick(); }),
      timeout_timer_(loop, [this] { on_timeout(); }) {}

ExecChecker::~ExecChecker() {
  unwatch_all();
  // ~Subprocess kills the group (SIGKILL) and reaps: a short wait.
}

void ExecChecker::start() { ticker_.start(); }

void ExecChecker::tick() {
  if (running()) {
    ++skipped_;
    return;
  }
  spawn();
}

void ExecChecker::spawn() {
  ++runs_;
  auto child = notify::Subprocess::spawn(notify::run_as_argv(params_.argv, params_.run_as),
                                         notify::base_environment());
  if (!child) {
    result(false, child.status().message());
    return;
  }
  child_ = std::move(*child);
  timed_out_ = false;
  Status watched = loop_.watch(child_->pid_fd(), EPOLLIN, [this](uint32_t) { on_exit(); });
  for (Stream stream : {Stream::out, Stream::err}) {
    if (!watched) break;
    watched = loop_.watch(child_->fd(stream), EPOLLIN,
                          [this, stream](uint32_t) { on_output(stream); });
  }
  if (!watched) {
    // Unwatched, its end or its output could go unseen: do not let it run.
    unwatch_all();
    child_.reset();  // kills its group and reaps
    result(false, watched.message());
    return;
  }
  timeout_timer_.arm(loop_.now() + params_.timeout);
}

// The command's output is read (a full pipe would block it into its
// timeout) and logged at debug level only: a check runs every interval, so
// at info a chatty script would flood the log with the same lines every
// second, while what matters (a verdict change, with the exit status) is
// logged anyway. With --debug an operator sees why a script fails.
void ExecChecker::log_output(Stream stream, std::string_view line) const {
  log::debug("check {}{}: {}", name(), stream == Stream::err ? " (stderr)" : "", line);
}

void ExecChecker::on_output(Stream stream) {
  if (!child_) return;
  int fd = child_->fd(stream);
  bool open = child_->read(stream, [&](std::string_view line) { log_output(stream, line); });
  // At EOF read() closed the fd (which took it out of epoll); this drops
  // the loop's callback.
  if (!open && fd >= 0) loop_.unwatch(fd);
}

void ExecChecker::on_timeout() {
  if (!child_) return;
  timed_out_ = true;
  if (Status killed = child_->signal_group(SIGKILL); !killed)
    log::error("check {}: cannot kill the timed-out {}: {} (pgvrrpd needs CAP_KILL for a check "
               "that runs as another user)",
               name(), params_.argv[0], killed.message());
  // The failure counts now; the run stays "running" until it is reaped, so
  // the next interval does not start a second one beside it.
  result(false, fmt::format("{} timed out after {}, killed", params_.argv[0],
                            seconds_text(params_.timeout)));
}

void ExecChecker::on_exit() {
  if (!child_ || !child_->exited()) return;  // spurious wakeup
  // Leftovers in its group go with it; the leader is a zombie until reap(),
  // so its group id cannot name anyone else's group yet.
  if (Status killed = child_->signal_group(SIGKILL); !killed)
    log::warning("check {}: cannot kill what {} left in its process group: {}", name(),
                 params_.argv[0], killed.message());
  unwatch_all();
  std::unique_ptr<notify::Subprocess> child = std::move(child_);
  for (Stream stream : {Stream::out, Stream::err})
    child->drain_and_close(stream, [&](std::string_view line) { log_output(stream, line); });
  notify::ExitStatus status = child->reap();
  timeout_timer_.disarm();
  if (timed_out_) return;  // counted at the timeout
  result(status.success(), fmt::format("{} {}", params_.argv[0], status.describe()));
}

void ExecChecker::unwatch_all() {
  if (!child_) return;
  // unwatch() tolerates fds that are closed or were never watched.
  for (int fd : {child_->pid_fd(), child_->fd(Stream::out), child_->fd(Stream::err)})
    if (fd >= 0) loop_.unwatch(fd);
}

void ExecChecker::result(bool ok, std::string reason) {
  log::debug("check {}: {}", name(), reason);
  if (auto verdict = hysteresis_.record(ok)) report(*verdict, reason);
}

}  // namespace pgvrrpd::checkers
