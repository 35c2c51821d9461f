// pgvrrpctl: asks a running pgvrrpd through its control socket and prints
// the answer. One request line, one answer, as control_server_linux.h says.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <time.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: pgvrrpctl [--socket PATH] status [--json]\n"
    "       pgvrrpctl [--socket PATH] maintenance on|off [--router NAME]\n"
    "       pgvrrpctl [--socket PATH] promote --force [--router NAME] [--yes]\n"
    "       pgvrrpctl [--socket PATH] switchover [--to ADDRESS] [--router NAME] [--wait SECONDS]\n"
    "       pgvrrpctl [--socket PATH] reload [--wait SECONDS]\n"
    "       pgvrrpctl --version\n";

constexpr std::string_view kForceWarning =
    "promote --force: this node takes over although the takeover guard holds it back\n"
    "(pgvrrpctl status says why). If its server has not received everything the old\n"
    "primary acknowledged, those writes are lost for good, and the old primary is\n"
    "rewound to this one when it comes back.\n";
constexpr const char* kDefaultSocket = "/run/pgvrrpd/pgvrrpd.sock";
constexpr int kAnswerTimeoutMs = 10'000;

// Exit statuses, documented in pgvrrpctl(8).
enum Exit { kOk = 0, kRefused = 1, kBadUsage = 2, kNotRunning = 3, kPermission = 4, kFailed = 5 };

int fail(int status, const std::string& message) {
  std::fprintf(stderr, "pgvrrpctl: %s\n", message.c_str());
  return status;
}

// Sends `request` and returns the answer in `answer`; an exit status.
int ask(const std::string& path, const std::string& request, std::string& answer) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path)
    return fail(kBadUsage, "--socket: a path of 1..107 bytes");
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  // Non-blocking, so that a stuck daemon whose queue is full (EAGAIN) is
  // reported rather than waited for.
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return fail(kFailed, std::string("socket: ") + std::strerror(errno));
  if (connect(fd, reinterpret_cast<sockaddr*>(&un), sizeof un) != 0) {
    int err = errno;
    close(fd);
    if (err == EAGAIN)
      return fail(kFailed, "pgvrrpd does not accept connections on " + path +
                               " (its queue is full: is it stuck?)");
    if (err == ENOENT || err == ECONNREFUSED)
      return fail(kNotRunning, "pgvrrpd is not running (nothing answers on " + path +
                                   "; another daemon's socket: --socket PATH)");
    if (err == EACCES || err == EPERM)
      return fail(kPermission, "permission denied on " + path +
                                   ": pgvrrpctl must run as root (or as pgvrrpd's own user)");
    return fail(kFailed, path + ": " + std::strerror(err));
  }
  std::string line = request + "\n";
  if (send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
    int err = errno;
    close(fd);
    return fail(kFailed, std::string("sending the request: ") + std::strerror(err));
  }
  char buf[8192];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int ready = poll(&p, 1, kAnswerTimeoutMs);
    if (ready == 0) {
      close(fd);
      return fail(kFailed, "pgvrrpd did not answer within 10 s");
    }
    if (ready < 0 && errno == EINTR) continue;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      answer.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    int err = n < 0 ? errno : 0;
    close(fd);
    if (err != 0) return fail(kFailed, std::string("reading the answer: ") + std::strerror(err));
    return kOk;
  }
}

double monotonic_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// "router NAME phase PHASE handover_s X detail TEXT" -> PHASE, TEXT.
bool parse_phase(const std::string& line, std::string& phase, std::string& handover,
                 std::string& detail) {
  auto field = [&](const std::string& key) -> std::string {
    size_t at = line.find(" " + key + " ");
    if (at == std::string::npos) return "";
    size_t start = at + key.size() + 2;
    if (key == "detail") return line.substr(start, line.find('\n', start) - start);
    return line.substr(start, line.find(' ', start) - start);
  };
  phase = field("phase");
  handover = field("handover_s");
  detail = field("detail");
  return !phase.empty();
}

// Follows a started switchover until it is done or failed, printing each
// phase as it comes; an exit status.
int follow_switchover(const std::string& socket_path, const std::string& router,
                      double wait_seconds) {
  std::string request = "switchover status" + (router.empty() ? "" : " " + router);
  std::string last_phase;
  double deadline = monotonic_seconds() + wait_seconds;
  for (;;) {
    std::string answer;
    if (int status = ask(socket_path, request, answer); status != kOk) return status;
    if (answer.rfind("error: ", 0) == 0) return fail(kFailed, answer.substr(7));
    std::string phase, handover, detail;
    if (!parse_phase(answer, phase, handover, detail))
      return fail(kFailed, "unexpected answer: " + answer);
    if (phase != last_phase) {
      std::printf("%s: %s\n", phase.c_str(), detail.c_str());
      std::fflush(stdout);
      last_phase = phase;
    }
    if (phase == "done") {
      if (handover != "-") std::printf("handover took %s s (writes stopped to the peer serving)\n",
                                       handover.c_str());
      return kOk;
    }
    if (phase == "failed") return fail(kFailed, "switchover failed: " + detail);
    if (monotonic_seconds() > deadline)
      return fail(kFailed, "still " + phase + " after " +
                               std::to_string(static_cast<int>(wait_seconds)) +
                               " s: pgvrrpctl status follows it");
    usleep(50'000);
  }
}

// Waits until a reload that stops routers has started the new ones; prints
// how it ended.
int follow_reload(const std::string& socket_path, double wait_seconds) {
  double deadline = monotonic_seconds() + wait_seconds;
  for (;;) {
    std::string answer;
    if (int status = ask(socket_path, "reload status", answer); status != kOk) return status;
    if (answer.rfind("done: ", 0) == 0) {
      std::printf("reloaded: %s", answer.substr(6).c_str());
      return answer.find("NOT started") == std::string::npos ? kOk : kFailed;
    }
    if (answer != "reloading\n") return fail(kFailed, "unexpected answer: " + answer);
    if (monotonic_seconds() > deadline)
      return fail(kFailed, "the old routers are still stopping after " +
                               std::to_string(static_cast<int>(wait_seconds)) +
                               " s: pgvrrpctl status follows it");
    usleep(50'000);
  }
}

}  // namespace

// promote --force: the risk said, and "yes" typed (or --yes given).
bool confirmed(bool yes) {
  std::fputs(kForceWarning.data(), stderr);
  if (yes) return true;
  if (!isatty(STDIN_FILENO)) {
    std::fputs("pgvrrpctl: not a terminal: give --yes to confirm\n", stderr);
    return false;
  }
  std::fputs("Type yes to go on: ", stderr);
  char line[16] = {};
  if (!std::fgets(line, sizeof line, stdin)) return false;
  return std::string_view(line) == "yes\n";
}

int main(int argc, char** argv) {
  std::string socket_path = kDefaultSocket;
  std::string command;
  std::string argument;  // maintenance's on|off
  std::string router;
  std::string to;
  double wait_seconds = 600;
  bool json = false;
  bool force = false;
  bool yes = false;
  auto missing = [](const std::string& what) {
    return fail(kBadUsage, what + "\n" + kUsage.data());
  };
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--socket") {
      if (i + 1 >= argc) return missing("--socket needs a path");
      socket_path = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--force") {
      force = true;
    } else if (arg == "--yes") {
      yes = true;
    } else if (arg == "--router") {
      if (i + 1 >= argc) return missing("--router needs a name");
      router = argv[++i];
    } else if (arg == "--to") {
      if (i + 1 >= argc) return missing("--to needs an address");
      to = argv[++i];
    } else if (arg == "--wait") {
      if (i + 1 >= argc) return missing("--wait needs seconds");
      char* end = nullptr;
      wait_seconds = std::strtod(argv[++i], &end);
      if (end == argv[i] || *end != '\0' || !(wait_seconds >= 0 && wait_seconds <= 86400))
        return fail(kBadUsage, "--wait: seconds, 0..86400 (0: do not wait for the switchover or reload)");
    } else if (arg == "--version") {
      std::printf("pgvrrpctl %s\n", PGVRRPD_VERSION);
      return kOk;
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage.data(), stdout);
      return kOk;
    } else if (command.empty() && !arg.empty() && arg[0] != '-') {
      command = arg;
    } else if (command == "maintenance" && argument.empty() && (arg == "on" || arg == "off")) {
      argument = arg;
    } else {
      return fail(kBadUsage, "unknown argument '" + std::string(arg) + "'\n" + kUsage.data());
    }
  }
  // Names travel in a request line of space-separated words.
  for (char c : router)
    if (c == ' ' || c == '\n' || c == '\r')
      return fail(kBadUsage, "--router: a router name has no blanks");
  for (char c : to)
    if (c == ' ' || c == '\n' || c == '\r')
      return fail(kBadUsage, "--to: an address has no blanks");
  if (to == "-" || to == "status") return fail(kBadUsage, "--to: an address");
  std::string request;
  if (command == "status" && !force && router.empty()) {
    request = json ? "status json" : "status";
  } else if (command == "maintenance" && !argument.empty() && !json && !force) {
    request = "maintenance " + argument + (router.empty() ? "" : " " + router);
  } else if (command == "promote" && force && !json) {
    if (!confirmed(yes)) return fail(kRefused, "not confirmed: nothing done");
    request = "promote force" + (router.empty() ? "" : " " + router);
  } else if (command == "promote") {
    return fail(kBadUsage, "promote needs --force: it overrides the takeover guard (a planned "
                           "handover is pgvrrpctl switchover)");
  } else if (command == "reload" && !json && !force && router.empty() && to.empty()) {
    request = "reload";
  } else if (command == "switchover" && !json && !force) {
    request = "switchover " + (to.empty() ? std::string("-") : to) +
              (router.empty() ? "" : " " + router);
  } else {
    return fail(kBadUsage, (command.empty() ? std::string("a command is needed")
                                            : "unknown command or arguments for '" + command + "'") +
                               "\n" + kUsage.data());
  }
  std::string answer;
  if (int status = ask(socket_path, request, answer); status != kOk) return status;
  if (answer.rfind("error: ", 0) == 0) {
    while (!answer.empty() && answer.back() == '\n') answer.pop_back();
    return fail(kRefused, answer.substr(7));
  }
  std::fputs(answer.c_str(), stdout);
  if (command == "switchover" && wait_seconds > 0) {
    std::fflush(stdout);
    return follow_switchover(socket_path, router, wait_seconds);
  }
  if (command == "reload" && answer.rfind("reloading: ", 0) == 0 && wait_seconds > 0) {
    std::fflush(stdout);
    return follow_reload(socket_path, wait_seconds);
  }
  return kOk;
}
