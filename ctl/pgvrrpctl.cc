// pgvrrpctl: asks a running pgvrrpd through its control socket and prints
// the answer. One request line, one answer, as control_server_linux.h says.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kUsage =
    "usage: pgvrrpctl [--socket PATH] status [--json]\n"
    "       pgvrrpctl [--socket PATH] maintenance on|off [--router NAME]\n"
    "       pgvrrpctl [--socket PATH] promote --force [--router NAME] [--yes]\n"
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
      return fail(kPermission, "permission denied on " + path + ": pgvrrpctl must run as root");
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
  bool json = false;
  bool force = false;
  bool yes = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--socket") {
      if (i + 1 >= argc) return fail(kBadUsage, std::string("--socket needs a path\n") + kUsage.data());
      socket_path = argv[++i];
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--force") {
      force = true;
    } else if (arg == "--yes") {
      yes = true;
    } else if (arg == "--router") {
      if (i + 1 >= argc) return fail(kBadUsage, std::string("--router needs a name\n") + kUsage.data());
      router = argv[++i];
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
                           "handover is a switchover, not built yet)");
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
  return kOk;
}
