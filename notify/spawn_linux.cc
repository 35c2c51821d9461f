#include "notify/spawn_linux.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace pgvrrpd::notify {
namespace {

// Owns the posix_spawn attribute objects for the duration of one spawn.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// The raw syscall: glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not
// link from C++.
int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

}  // namespace

std::string ExitStatus::describe() const {
  if (!signaled && code < 0) return "exit status unknown";
  if (signaled) return fmt::format("killed by signal {} ({})", code, strsignal(code));
  return fmt::format("exited with status {}", code);
}

Result<std::unique_ptr<Subprocess>> Subprocess::spawn(const std::vector<std::string>& argv,
                                                      const std::vector<std::string>& env) {
  if (argv.empty()) return Status::error("spawn: empty argv");
  std::unique_ptr<Subprocess> child(new Subprocess);
  // Each pipe: the read end is ours (non-blocking, for the loop); the write
  // end goes to the child blocking, as programs expect of stdout.
  // The read ends are stored in `child` at once, so its destructor closes
  // them on every error path below.
  int pipes[2][2];
  for (size_t i = 0; i < 2; ++i) {
    if (pipe2(pipes[i], O_CLOEXEC) < 0) {
      auto status = Status::from_errno("pipe2");
      if (i == 1) close(pipes[0][1]);
      return status;
    }
    fcntl(pipes[i][0], F_SETFL, O_NONBLOCK);
    child->out_[i].fd = pipes[i][0];
  }
  auto close_write_ends = [&] {
    close(pipes[0][1]);
    close(pipes[1][1]);
  };

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, pipes[0][1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&setup.actions, pipes[1][1], STDERR_FILENO);
  // The daemon's sockets are not all O_CLOEXEC; a hook holding the raw VRRP
  // socket or a netlink socket would be a leak and a hazard.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, STDERR_FILENO + 1);
  posix_spawn_file_actions_addchdir_np(&setup.actions, "/");

  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&setup.attr, &empty);
  posix_spawnattr_setsigdefault(&setup.attr, &all);
  // pgroup 0: a new group whose id is the child's pid, so a timeout can kill
  // the hook and everything it started with one kill(-pid).
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setflags(&setup.attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  auto c_argv = c_strings(argv);
  auto c_env = c_strings(env);
  // glibc's posix_spawn returns only after the child has exec'd (or failed
  // to, which it reports here), so the process group exists on return.
  int rc = posix_spawn(&child->pid_, argv[0].c_str(), &setup.actions, &setup.attr,
                       c_argv.data(), c_env.data());
  close_write_ends();
  if (rc != 0) {
    child->pid_ = -1;  // glibc reaped the child that failed to exec
    return Status::from_errno(fmt::format("posix_spawn {}", argv[0]), rc);
  }

  // The child cannot be reaped by anyone else before this (we do not reap
  // with waitpid(-1)), so the pid still names it, even if it already exited.
  child->pid_fd_ = open_pidfd(child->pid_);
  if (child->pid_fd_ < 0) {
    auto status = Status::from_errno(fmt::format("pidfd_open {}", child->pid_));
    kill(-child->pid_, SIGKILL);
    siginfo_t info{};
    waitid(P_PID, static_cast<id_t>(child->pid_), &info, WEXITED);
    child->reaped_ = true;
    return status;
  }
  return child;
}

Subprocess::~Subprocess() {
  if (!reaped_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    // Bounded: a child stuck in the kernel (state D) outlives SIGKILL, and
    // a daemon shutting down must not hang on it; unreaped, it goes to init.
    pollfd exited{pid_fd_, POLLIN, 0};
    if (poll(&exited, 1, kDeathWaitMs) == 1) {
      siginfo_t info{};
      waitid(P_PIDFD, static_cast<id_t>(pid_fd_), &info, WEXITED | WNOHANG);
    }
  }
  for (auto& out : out_)
    if (out.fd >= 0) close(out.fd);
  if (pid_fd_ >= 0) close(pid_fd_);
}

Subprocess::ReadOutcome Subprocess::read_some(Stream stream,
                                              const LineBuffer::LineCallback& on_line) {
  auto& out = out_[index(stream)];
  if (out.fd < 0) return ReadOutcome::closed;
  char buf[4096];
  // Bounded per call so a chatty hook cannot starve the loop; epoll is
  // level-triggered and calls again for the rest.
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::read(out.fd, buf, sizeof buf);
    if (n > 0) {
      out.buffer.append(std::string_view(buf, static_cast<size_t>(n)), on_line);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return ReadOutcome::empty;
    close_stream(stream, on_line);  // EOF or a real error
    return ReadOutcome::closed;
  }
  return ReadOutcome::budget_spent;
}

bool Subprocess::read(Stream stream, const LineBuffer::LineCallback& on_line) {
  return read_some(stream, on_line) != ReadOutcome::closed;
}

void Subprocess::drain_and_close(Stream stream, const LineBuffer::LineCallback& on_line) {
  // Capped (4 MiB) in case a straggler holding the pipe writes as fast as
  // we read.
  for (int round = 0; round < 64; ++round)
    if (read_some(stream, on_line) != ReadOutcome::budget_spent) break;
  close_stream(stream, on_line);
}

void Subprocess::close_stream(Stream stream, const LineBuffer::LineCallback& on_line) {
  auto& out = out_[index(stream)];
  if (out.fd < 0) return;
  out.buffer.flush(on_line);
  close(out.fd);
  out.fd = -1;
}

bool Subprocess::exited() {
  if (reaped_) return true;
  siginfo_t info{};
  // WNOWAIT: leave the zombie, which keeps the pid and group id reserved.
  if (waitid(P_PIDFD, static_cast<id_t>(pid_fd_), &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    return false;
  return info.si_pid != 0;
}

ExitStatus Subprocess::reap() {
  siginfo_t info{};
  ExitStatus status{false, -1};  // unknown, and not a success, if waitid fails
  if (waitid(P_PIDFD, static_cast<id_t>(pid_fd_), &info, WEXITED | WNOHANG) == 0 &&
      info.si_pid != 0) {
    status.signaled = info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED;
    status.code = info.si_status;
  }
  reaped_ = true;
  return status;
}

Status Subprocess::signal_group(int signal) {
  if (reaped_ || kill(-pid_, signal) == 0) return Status::success();
  // ESRCH: the whole group is gone already, which is what a kill wants.
  if (errno == ESRCH) return Status::success();
  return Status::from_errno(fmt::format("kill process group {}", pid_));
}

bool Subprocess::group_has_members() const {
  return kill(-pid_, 0) == 0 || errno == EPERM;
}

}  // namespace pgvrrpd::notify
