// One child process for a hook: posix_spawn into its own process group, its
// stdout and stderr on pipes, its exit seen through a pidfd. Passive (like
// ninja's Subprocess): it owns the fds and the pid, the caller watches the
// fds in its event loop and calls back in when they are ready. Nothing here
// blocks except the destructor of a still-running child (SIGKILL, then a
// wait that the kernel ends promptly).
//
// Process group safety: the child's pid is its process group id, and a pid
// (hence the group id) cannot be reused while the child is unreaped, even as
// a zombie. So exited() looks without reaping, and signal_group() is only
// allowed before reap(): killing "-pgid" can never hit a stranger.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "notify/line_buffer.h"
#include "vrrpd/basics/result.h"

namespace pgvrrpd::notify {

enum class Stream : uint8_t { out, err };

struct ExitStatus {
  bool signaled = false;
  int code = 0;  // exit code, the signal number when signaled, -1 unknown
  bool success() const { return !signaled && code == 0; }
  // "exited with status 3", "killed by signal 9 (Killed)".
  std::string describe() const;
};

class Subprocess {
 public:
  // How long the destructor waits for the SIGKILLed child to die.
  static constexpr int kDeathWaitMs = 1000;

  // Spawns argv[0] (an absolute path; no PATH search) with exactly `env`,
  // stdin from /dev/null, cwd "/", all other fds closed, default signal
  // dispositions and an empty signal mask (the daemon blocks the signals it
  // reads through signalfd; a hook must not inherit that).
  static Result<std::unique_ptr<Subprocess>> spawn(const std::vector<std::string>& argv,
                                                   const std::vector<std::string>& env);
  // Unless reaped: SIGKILLs the group and reaps the child, waiting for it
  // kDeathWaitMs at most.
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  // Readable (EPOLLIN) once the child has exited.
  int pid_fd() const { return pid_fd_; }
  // -1 once the stream is closed.
  int fd(Stream stream) const { return out_[index(stream)].fd; }

  // Reads what the pipe holds now, calling `on_line` per complete line.
  // Returns false at end of stream (or a read error): the fd is then closed,
  // the partial last line delivered, and the caller must have stopped
  // watching it. Spurious calls (nothing to read) are harmless.
  bool read(Stream stream, const LineBuffer::LineCallback& on_line);
  // Reads what is buffered now, delivers the partial last line, closes.
  // For after the child exited: output of its own is all in the pipe by then;
  // a straggler still holding the pipe open is not waited for.
  void drain_and_close(Stream stream, const LineBuffer::LineCallback& on_line);

  // Whether the child has exited, without reaping it.
  bool exited();
  // Reaps the child. REQUIRES: exited(), not yet reaped.
  ExitStatus reap();
  bool reaped() const { return reaped_; }

  // Sends `signal` to the child's whole process group. REQUIRES: !reaped().
  // Fails with EPERM when the hook runs as another user and the caller lacks
  // CAP_KILL (a systemd unit that left it out): the caller must say so, as
  // the hook then runs on past its timeout.
  Status signal_group(int signal);
  // After reap(): whether processes the hook started remain in its group
  // (only for a log line; the answer can be stale at once). Members we may
  // not signal (EPERM) count: they are there.
  bool group_has_members() const;

 private:
  struct Output {
    int fd = -1;
    LineBuffer buffer;
  };
  enum class ReadOutcome : uint8_t { empty, budget_spent, closed };
  Subprocess() = default;
  ReadOutcome read_some(Stream stream, const LineBuffer::LineCallback& on_line);
  static size_t index(Stream stream) { return static_cast<size_t>(stream); }
  void close_stream(Stream stream, const LineBuffer::LineCallback& on_line);

  pid_t pid_ = -1;
  int pid_fd_ = -1;
  bool reaped_ = false;
  std::array<Output, 2> out_;
};

}  // namespace pgvrrpd::notify
