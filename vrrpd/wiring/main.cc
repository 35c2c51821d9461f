// pgvrrpd: command line, configuration check, then the daemon. Wiring only.
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/ranges.h>

#include "checkers/conninfo_libpq.h"
#include "notify/script_security.h"
#include "vrrpd/config/config.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/wiring/control_server_linux.h"
#include "vrrpd/wiring/daemon.h"
#include "vrrpd/wiring/daemon_edge_linux.h"
#include "vrrpd/wiring/pre_start.h"
#include "vrrpd/edge/syslog_socket_linux.h"
#include "vrrpd/edge/systemd_notify_linux.h"
#include "vrrpd/basics/log.h"

namespace {

constexpr std::string_view kUsage =
    "usage: pgvrrpd -f FILE [--log stderr|syslog] [--debug]\n"
    "       pgvrrpd --check-config -f FILE\n"
    "       pgvrrpd --pre-start [--wait SECONDS] -f FILE\n"
    "       pgvrrpd --version\n";

struct Options {
  std::string config_path;
  bool check_only = false;
  bool pre_start = false;
  std::chrono::milliseconds pre_start_wait = std::chrono::seconds(30);
  bool debug = false;
  std::optional<pgvrrpd::log::Sink> sink;
};

// Returns nullopt after printing why when the command line is wrong.
std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    if (arg == "-f" || arg == "--config") {
      const char* v = value();
      if (!v) break;
      o.config_path = v;
    } else if (arg == "--check-config" || arg == "-t") {
      o.check_only = true;
    } else if (arg == "--pre-start") {
      o.pre_start = true;
    } else if (arg == "--wait") {
      const char* v = value();
      char* end = nullptr;
      errno = 0;
      double seconds = v ? std::strtod(v, &end) : -1;
      if (!v || end == v || *end != '\0' || errno != 0 || !(seconds >= 0 && seconds <= 3600)) {
        std::fprintf(stderr, "pgvrrpd: --wait takes seconds, 0..3600\n");
        return std::nullopt;
      }
      o.pre_start_wait = std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
    } else if (arg == "--log") {
      const char* v = value();
      if (v && std::strcmp(v, "stderr") == 0) {
        o.sink = pgvrrpd::log::Sink::stderr_;
      } else if (v && std::strcmp(v, "syslog") == 0) {
        o.sink = pgvrrpd::log::Sink::syslog;
      } else {
        std::fprintf(stderr, "pgvrrpd: --log must be stderr or syslog\n");
        return std::nullopt;
      }
    } else if (arg == "--debug") {
      o.debug = true;
    } else if (arg == "--version") {
      std::printf("pgvrrpd %s\n", PGVRRPD_VERSION);
      std::exit(0);
    } else if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage.data(), stdout);
      std::exit(0);
    } else if (o.check_only && o.config_path.empty() && arg[0] != '-') {
      o.config_path = std::string(arg);  // pgvrrpd --check-config FILE
    } else {
      std::fprintf(stderr, "pgvrrpd: unknown argument '%s'\n%s", argv[i], kUsage.data());
      return std::nullopt;
    }
  }
  if (o.check_only && o.pre_start) {
    std::fprintf(stderr, "pgvrrpd: --check-config and --pre-start do not go together\n");
    return std::nullopt;
  }
  if (o.config_path.empty()) {
    std::fprintf(stderr, "pgvrrpd: a configuration file is required (-f FILE)\n%s", kUsage.data());
    return std::nullopt;
  }
  return o;
}

// The config file, checked completely: the file's own security (owner,
// mode), every value, and every program a hook or exec check runs.
pgvrrpd::ConfigResult read_config(const std::string& path) {
  // (A missing file is load_config's error to report.)
  if (struct stat st {}; stat(path.c_str(), &st) == 0)
    if (auto s = pgvrrpd::notify::check_config_file_security(path); !s)
      return {{}, {{path, 0, s.message()}}};
  auto loaded = pgvrrpd::load_config(path, {.conninfo = pgvrrpd::checkers::conninfo_error});
  if (loaded.ok()) {
    // Hooks and exec checks run as root or as hook_user: refuse programs a
    // non-root user could replace (keepalived's script security).
    loaded.errors = pgvrrpd::validate_commands(
        loaded.config, path, [](const pgvrrpd::CommandConfig& command) {
          auto s = pgvrrpd::notify::check_program_security(command.argv.front());
          return s ? std::string() : s.message();
        });
  }
  return loaded;
}

// The unit starts pgvrrpd as an ordinary user with CAP_NET_RAW and
// CAP_NET_ADMIN in its ambient set (AmbientCapabilities=). That set is only
// the way in: pgvrrpd keeps them as effective and permitted, and empties it
// so that no hook, exec check or PostgreSQL program it starts inherits them.
// (EINVAL: a kernel before 4.3 has no ambient set to empty.)
void drop_ambient_capabilities() {
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    std::fprintf(stderr, "pgvrrpd: cannot clear the ambient capabilities: %s\n",
                 std::strerror(errno));
    std::exit(1);
  }
}

// As postgres (the unit's User=), pgvrrpd shares its uid with the database
// server and whatever a database superuser runs there (COPY ... TO
// PROGRAM): not dumpable, it cannot be ptraced or have its memory written
// through /proc by them, which would hand them CAP_NET_ADMIN. (Root needs
// no such guard, and keeps its core dumps.)
void refuse_same_user_tracing() {
  if (geteuid() != 0 && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    std::fprintf(stderr, "pgvrrpd: cannot make itself non-dumpable: %s\n", std::strerror(errno));
    std::exit(1);
  }
}

}  // namespace

int main(int argc, char** argv) {
  drop_ambient_capabilities();
  refuse_same_user_tracing();
  auto options = parse_options(argc, argv);
  if (!options) return 2;
  // Before anything uses libpq; logged once the log is set up.
  auto dropped_pg_env = pgvrrpd::checkers::unset_libpq_environment();

  auto loaded = read_config(options->config_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 1;
  }
  if (options->check_only) {
    std::printf("configuration OK\n");
    return 0;
  }
  if (options->pre_start) return pgvrrpd::run_pre_start(loaded.config, options->pre_start_wait);

  // A hook, journald or a peer that closes its end of a pipe or socket must
  // cost one failed write (EPIPE), never the daemon. Hooks get the default
  // back (spawn_linux.cc: posix_spawnattr_setsigdefault).
  std::signal(SIGPIPE, SIG_IGN);

  // Under systemd stderr is a pipe to the journal, not a terminal: syslog
  // then, unless told otherwise.
  auto sink = options->sink.value_or(isatty(STDERR_FILENO) ? pgvrrpd::log::Sink::stderr_
                                                           : pgvrrpd::log::Sink::syslog);
  pgvrrpd::log::init(sink);
  pgvrrpd::log::set_debug(options->debug);
  // The log must never make the loop wait (log.h): syslog through a
  // non-blocking socket, stderr non-blocking when it is a pipe or a socket
  // (the journal's stream under systemd; a terminal or a file is left be).
  pgvrrpd::SyslogSocket syslog_socket;
  if (sink == pgvrrpd::log::Sink::syslog)
    pgvrrpd::log::set_syslog_writer([&syslog_socket](int priority, std::string_view message) {
      return syslog_socket.send(priority, message);
    });
  struct UnsetWriter {  // before syslog_socket goes; later lines use syslog(3)
    ~UnsetWriter() { pgvrrpd::log::set_syslog_writer(nullptr); }
  } unset_writer;
  if (struct stat st {}; fstat(STDERR_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) ||
                                                            S_ISSOCK(st.st_mode)))
    fcntl(STDERR_FILENO, F_SETFL, fcntl(STDERR_FILENO, F_GETFL) | O_NONBLOCK);

  pgvrrpd::log::info("pgvrrpd {} starting with {} (node {})", PGVRRPD_VERSION,
                     options->config_path,
                     loaded.config.node.empty() ? "unnamed" : loaded.config.node);
  if (!dropped_pg_env.empty())
    pgvrrpd::log::warning("ignoring the environment variables {}, which libpq would read "
                          "(unset): connection settings come from the configuration alone",
                          fmt::join(dropped_pg_env, ", "));
  auto systemd = pgvrrpd::SystemdNotify::from_environment();
  if (!systemd) {
    pgvrrpd::log::error("cannot start: {}", systemd.status().message());
    return 1;
  }
  std::string control_socket = loaded.config.control_socket;
  pgvrrpd::EventLoop loop;  // on the steady clock
  pgvrrpd::LinuxDaemonEdge edge;
  pgvrrpd::Daemon daemon(std::move(loaded.config), loop, edge);
  daemon.set_systemd(&*systemd);
  daemon.set_config_reader([path = options->config_path] { return read_config(path); });
  pgvrrpd::ControlServer control(loop, [&daemon](std::string_view request) {
    return daemon.control(request);
  });
  // Before anything changes on the system: a second daemon stops here.
  if (auto s = control.bind(control_socket); !s) {
    pgvrrpd::log::error("cannot start: {}", s.message());
    return 1;
  }
  if (auto s = daemon.start(); !s) {
    pgvrrpd::log::error("cannot start: {}", s.message());
    return 1;
  }
  if (auto s = control.start(); !s) {
    pgvrrpd::log::error("cannot start: {}", s.message());
    return 1;
  }
  if (auto s = daemon.run(); !s) {
    pgvrrpd::log::error("event loop failed: {}", s.message());
    return 1;
  }
  pgvrrpd::log::info("stopped");
  return 0;
}
