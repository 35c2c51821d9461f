#include "checkers/exec_checker.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "vrrpd/basics/log.h"

extern char** environ;

namespace pgvrrpd::checkers {
namespace {

// glibc 2.36 has neither a pidfd_open() wrapper nor P_PIDFD (linux/wait.h
// defines it but clashes with sys/wait.h).
constexpr idtype_t kPidfd = static_cast<idtype_t>(3);

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string seconds_text(Duration d) {
  return fmt::format("{:g} s", std::chrono::duration<double>(d).count());
}

// Spawns argv in a new process group with a clean signal state and
// /dev/null for stdio. Returns the pid, or an errno.
Result<pid_t> spawn_command(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group, led by itself
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);

  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return Status::from_errno(fmt::format("cannot run {}", argv[0]), rc);
  return pid;
}

}  // namespace

ExecChecker::ExecChecker(EventLoop& loop, std::string name, ExecParams params)
    : Checker(std::move(name)),
      loop_(loop),
      params_(std::move(params)),
      hysteresis_(params_.rise, params_.fall),
      interval_timer_(loop, [this] { tick(); }),
      timeout_timer_(loop, [this] { on_timeout(); }) {}

ExecChecker::~ExecChecker() {
  if (pid_ <= 0) return;
  // The leader is not reaped yet, so its pid still names its group.
  kill(-pid_, SIGKILL);
  loop_.unwatch(pidfd_);
  siginfo_t info{};
  // SIGKILL has been sent: this wait is short.
  while (waitid(kPidfd, static_cast<id_t>(pidfd_), &info, WEXITED) < 0 &&
         errno == EINTR) {
  }
  close(pidfd_);
}

void ExecChecker::start() {
  next_tick_ = loop_.now();
  tick();
}

void ExecChecker::tick() {
  // A fixed rate from the start; after a stall (a suspended machine), go
  // on from now rather than firing the missed intervals in a burst.
  next_tick_ += params_.interval;
  if (next_tick_ <= loop_.now()) next_tick_ = loop_.now() + params_.interval;
  interval_timer_.arm(next_tick_);
  if (running()) {
    ++skipped_;
    return;
  }
  spawn();
}

void ExecChecker::spawn() {
  ++runs_;
  auto pid = spawn_command(params_.argv);
  if (!pid) {
    result(false, pid.status().message());
    return;
  }
  int fd = pidfd_open(*pid);
  if (fd < 0) {
    // Cannot happen for our own unreaped child short of running out of
    // fds; do not leave it unwatched.
    Status s = Status::from_errno("pidfd_open");
    kill(-*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    result(false, s.message());
    return;
  }
  if (auto s = loop_.watch(fd, EPOLLIN, [this](uint32_t) { on_exit(); }); !s) {
    kill(-*pid, SIGKILL);
    waitpid(*pid, nullptr, 0);
    close(fd);
    result(false, s.message());
    return;
  }
  pid_ = *pid;
  pidfd_ = fd;
  timed_out_ = false;
  timeout_timer_.arm(loop_.now() + params_.timeout);
}

void ExecChecker::on_timeout() {
  timed_out_ = true;
  kill(-pid_, SIGKILL);
  // The failure counts now; the run stays "running" until it is reaped, so
  // the next interval does not start a second one beside it.
  result(false, fmt::format("{} timed out after {}, killed", params_.argv[0],
                            seconds_text(params_.timeout)));
}

void ExecChecker::on_exit() {
  // Leftovers in its group go with it; the leader is a zombie until the
  // waitid below, so -pid_ cannot name anyone else's group.
  kill(-pid_, SIGKILL);
  siginfo_t info{};
  if (waitid(kPidfd, static_cast<id_t>(pidfd_), &info,
             WEXITED | WNOHANG) < 0 ||
      info.si_pid == 0)
    return;  // not exited after all (spurious wakeup): wait for the next one
  loop_.unwatch(pidfd_);
  close(pidfd_);
  pidfd_ = -1;
  pid_ = -1;
  timeout_timer_.disarm();
  if (timed_out_) return;  // counted at the timeout
  if (info.si_code == CLD_EXITED && info.si_status == 0)
    result(true, fmt::format("{} exited with status 0", params_.argv[0]));
  else if (info.si_code == CLD_EXITED)
    result(false, fmt::format("{} exited with status {}", params_.argv[0], info.si_status));
  else
    result(false, fmt::format("{} killed by signal {} ({})", params_.argv[0], info.si_status,
                              strsignal(info.si_status)));
}

void ExecChecker::result(bool ok, std::string reason) {
  log::debug("check {}: {}", name(), reason);
  if (auto verdict = hysteresis_.record(ok)) report(*verdict, reason);
}

}  // namespace pgvrrpd::checkers
