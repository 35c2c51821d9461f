// checker_probe: runs one checker in an EventLoop and prints what it sees,
// for the integration tests. Built, never installed.
//
//   checker_probe ping ADDRESS INTERVAL TIMEOUT RISE FALL
//   checker_probe link IFNAME
//       (test_checkers.py) prints "<monotonic seconds> PASS|FAIL <reason>"
//       lines, flushed; runs until SIGTERM or SIGINT.
//   checker_probe postgres --conninfo STR [--peer-conninfo STR] [--interval-ms N]
//                          [--timeout-ms N] [--rise N] [--fall N] [--max-lag BYTES]
//       (test_postgres_checker.py) runs one PostgresChecker and prints its
//       verdict changes and fact changes as JSON lines on stdout, with t = the
//       CLOCK_MONOTONIC time in seconds (Python's time.monotonic()).
//       SIGUSR1: poll_now(); SIGUSR2: toggle fast poll; SIGTERM/SIGINT: exit.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "checkers/link_checker_linux.h"
#include "checkers/ping_checker_linux.h"
#include "checkers/postgres_checker.h"
#include "vrrpd/loop/event_loop_linux.h"
#include "vrrpd/basics/log.h"

using namespace pgvrrpd;
using namespace pgvrrpd::checkers;

namespace {

[[noreturn]] void usage(const char* why) {
  if (why) std::fprintf(stderr, "checker_probe: %s\n", why);
  std::fprintf(stderr,
               "usage: checker_probe ping ADDRESS INTERVAL TIMEOUT RISE FALL\n"
               "       checker_probe link IFNAME\n"
               "       checker_probe postgres --conninfo STR [--peer-conninfo STR] "
               "[--interval-ms N] [--timeout-ms N] [--rise N] [--fall N] [--max-lag BYTES]\n");
  std::exit(2);
}

// ---- ping and link: verdict lines

Duration parse_seconds(const char* text) {
  return std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(std::strtod(text, nullptr)));
}

int run_ping_or_link(int argc, char** argv) {
  if (argc < 3) usage(nullptr);
  std::string kind = argv[1];
  EventLoop loop;
  if (auto s = loop.open(); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  if (auto s = loop.handle_signals({SIGTERM, SIGINT}, [&](int) { loop.stop(); }); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  std::unique_ptr<Checker> checker;
  if (kind == "ping" && argc == 7) {
    auto target = IpAddress::parse(argv[2]);
    if (!target) usage("bad ADDRESS");
    checker = std::make_unique<PingChecker>(
        loop, "probe",
        PingParams{*target, parse_seconds(argv[3]), parse_seconds(argv[4]),
                   static_cast<uint32_t>(std::atoi(argv[5])),
                   static_cast<uint32_t>(std::atoi(argv[6]))});
  } else if (kind == "link" && argc == 3) {
    checker = std::make_unique<LinkChecker>(loop, argv[2]);
  } else {
    usage(nullptr);
  }
  checker->set_listener([&](bool passing, const std::string& reason) {
    double now = std::chrono::duration<double>(loop.now().time_since_epoch()).count();
    std::printf("%.3f %s %s\n", now, passing ? "PASS" : "FAIL", reason.c_str());
    std::fflush(stdout);
  });
  checker->start();
  if (auto s = loop.run(); !s) {
    std::fprintf(stderr, "%s\n", s.message().c_str());
    return 1;
  }
  return 0;
}

// ---- postgres: JSON lines

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += fmt::format("\\{}", c);
    else if (static_cast<unsigned char>(c) < 0x20)
      out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
    else
      out += c;
  }
  return out + "\"";
}

std::string seconds(TimePoint t) {
  return fmt::format("{:.6f}", std::chrono::duration<double>(t.time_since_epoch()).count());
}
template <typename T>
std::string opt(const std::optional<T>& v) {
  return v ? fmt::format("{}", *v) : "null";
}
std::string opt_time(const std::optional<TimePoint>& t) { return t ? seconds(*t) : "null"; }

void emit(const std::string& body) {
  fmt::print("{{\"t\": {}, {}}}\n", seconds(Clock::now()), body);
  std::fflush(stdout);
}

std::string changes(uint32_t c) {
  std::vector<std::string> names;
  const std::pair<uint32_t, const char*> all[] = {
      {kChangeAlive, "alive"},         {kChangeRole, "role"},          {kChangeTimeline, "timeline"},
      {kChangeStreaming, "streaming"}, {kChangeLsn, "lsn"},            {kChangePeerAlive, "peer_alive"},
      {kChangePeerRole, "peer_role"},  {kChangePeerLsn, "peer_lsn"}};
  for (auto [bit, name] : all)
    if (c & bit) names.push_back(quote(name));
  return fmt::format("[{}]", fmt::join(names, ", "));
}

std::string facts_json(const PgFacts& f) {
  const PgServerState none;
  const PgServerState& l = f.local ? *f.local : none;
  const PgServerState& p = f.peer ? *f.peer : none;
  return fmt::format(
      "\"alive\": {}, \"alive_changed_at\": {}, \"error\": {}, \"local_at\": {}, \"role\": {}, "
      "\"system_identifier\": {}, \"timeline\": {}, \"checkpoint_timeline\": {}, "
      "\"current_lsn\": {}, \"receive_lsn\": {}, \"replay_lsn\": {}, \"receiver_status\": {}, "
      "\"receiver_timeline\": {}, \"receiver_latest_end_lsn\": {}, \"streaming\": {}, "
      "\"last_streaming_at\": {}, \"primary_lsn\": {}, \"receive_lag_bytes\": {}, "
      "\"replay_lag_bytes\": {}, \"replay_lag_seconds\": {}, \"lag_exceeded\": {}, "
      "\"peer_alive\": {}, \"peer_alive_changed_at\": {}, \"peer_error\": {}, \"peer_at\": {}, "
      "\"peer_role\": {}, \"peer_system_identifier\": {}, \"peer_timeline\": {}, "
      "\"peer_current_lsn\": {}, \"peer_primary_lsn\": {}, \"peer_primary_timeline\": {}, "
      "\"peer_primary_at\": {}",
      f.alive, seconds(f.alive_changed_at), quote(f.error), f.local ? seconds(f.local_at) : "null",
      quote(to_string(f.role())), quote(std::to_string(l.system_identifier)), f.timeline,
      l.checkpoint_timeline, opt(l.current_lsn), opt(l.receive_lsn), opt(l.replay_lsn),
      quote(l.receiver_status), l.receiver_timeline, opt(l.receiver_latest_end_lsn), f.streaming,
      opt_time(f.last_streaming_at), opt(f.primary_lsn), opt(f.receive_lag_bytes),
      opt(f.replay_lag_bytes), opt(f.replay_lag_seconds), f.lag_exceeded, f.peer_alive,
      seconds(f.peer_alive_changed_at), quote(f.peer_error), f.peer ? seconds(f.peer_at) : "null",
      quote(to_string(f.peer_role())), quote(std::to_string(p.system_identifier)), p.timeline,
      opt(p.current_lsn), opt(f.peer_primary_lsn), f.peer_primary_timeline,
      opt_time(f.peer_primary_at));
}

// argv[0] is "postgres", the options follow.
int run_postgres(int argc, char** argv) {
  log::init(log::Sink::stderr_);
  PostgresCheckParams params;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) usage(("missing value for " + arg).c_str());
    std::string value = argv[++i];
    auto number = [&] { return std::strtoull(value.c_str(), nullptr, 10); };
    if (arg == "--conninfo")
      params.conninfo = value;
    else if (arg == "--peer-conninfo")
      params.peer_conninfo = value;
    else if (arg == "--interval-ms")
      params.interval = std::chrono::milliseconds(number());
    else if (arg == "--timeout-ms")
      params.timeout = std::chrono::milliseconds(number());
    else if (arg == "--rise")
      params.rise = static_cast<uint32_t>(number());
    else if (arg == "--fall")
      params.fall = static_cast<uint32_t>(number());
    else if (arg == "--max-lag")
      params.max_lag_bytes = number();
    else
      usage(("unknown option " + arg).c_str());
  }
  if (params.conninfo.empty()) usage("--conninfo is required");

  EventLoop loop;
  if (Status s = loop.open(); !s) usage(s.message().c_str());
  PostgresChecker checker(loop, "pg", params);
  checker.set_listener([](bool passing, const std::string& reason) {
    emit(fmt::format("\"event\": \"verdict\", \"passing\": {}, \"reason\": {}", passing, quote(reason)));
  });
  checker.set_facts_listener([](const PgFacts& f, uint32_t changed) {
    emit(fmt::format("\"event\": \"facts\", \"changed\": {}, {}", changes(changed), facts_json(f)));
  });
  bool fast = false;
  Status s = loop.handle_signals({SIGTERM, SIGINT, SIGUSR1, SIGUSR2}, [&](int sig) {
    if (sig == SIGUSR1) {
      emit("\"event\": \"poll_now\"");
      checker.poll_now();
    } else if (sig == SIGUSR2) {
      fast = !fast;
      emit(fmt::format("\"event\": \"fast_poll\", \"on\": {}", fast));
      checker.set_fast_poll(fast);
    } else {
      loop.stop();
    }
  });
  if (!s) usage(s.message().c_str());
  emit("\"event\": \"start\"");
  checker.start();
  if (Status r = loop.run(); !r) usage(r.message().c_str());
  checker.stop();
  emit("\"event\": \"exit\"");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "postgres") == 0) return run_postgres(argc - 1, argv + 1);
  return run_ping_or_link(argc, argv);
}
