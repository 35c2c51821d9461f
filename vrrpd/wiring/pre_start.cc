#include "vrrpd/wiring/pre_start.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "checkers/pg_ask_libpq.h"
#include "vrrpd/policy/pre_start.h"

namespace pgvrrpd {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// One server to judge: the data directory of a router's hooks and the peer
// its postgres check compares with. Routers sharing both count once.
struct Target {
  std::string router;
  std::string check;
  std::string pgdata;
  std::string peer_conninfo;
};

template <typename... Args>
void say(fmt::format_string<Args...> format, Args&&... args) {
  std::fprintf(stderr, "pgvrrpd --pre-start: %s\n",
               fmt::format(format, std::forward<Args>(args)...).c_str());
}

std::string pgdata_of(const RouterConfig& router) {
  for (const auto& [name, value] : router.hooks.env)
    if (name == "PGDATA") return value;
  return "";
}

// Looks into PGDATA as its owner: root may lack CAP_DAC_OVERRIDE (pgvrrpd's
// own unit: a rejoin hook's start command runs --pre-start with its
// capabilities), and the directory is 0700.
class ActingAsOwner {
 public:
  explicit ActingAsOwner(const std::string& pgdata) {
    struct stat st {};
    if (geteuid() != 0 || stat(pgdata.c_str(), &st) != 0 || st.st_uid == 0) return;
    if (setegid(st.st_gid) != 0) return;
    if (seteuid(st.st_uid) != 0) {
      if (setegid(0) != 0) std::abort();
      return;
    }
    switched_ = true;
  }
  ~ActingAsOwner() {
    if (!switched_) return;
    // Back to root: seteuid(0) is allowed as the saved uid is 0.
    if (seteuid(0) != 0 || setegid(0) != 0) std::abort();
  }
  ActingAsOwner(const ActingAsOwner&) = delete;
  ActingAsOwner& operator=(const ActingAsOwner&) = delete;

 private:
  bool switched_ = false;
};

// What the data directory starts as; an error when it cannot be looked at.
Result<policy::LocalStart> local_start(const std::string& pgdata) {
  ActingAsOwner owner(pgdata);
  std::string signal = pgdata + "/standby.signal";
  // stat, not access(): access() judges by the real uid, which stays root.
  struct stat st {};
  if (stat(signal.c_str(), &st) == 0) return policy::LocalStart::standby;
  if (errno != ENOENT) return Status::from_errno(signal);
  std::string version = pgdata + "/PG_VERSION";
  if (stat(version.c_str(), &st) != 0)
    return Status::from_errno(fmt::format("{} (is PGDATA a data directory?)", version));
  return policy::LocalStart::primary;
}

// Asks until an answer comes or `deadline` passes, a second apart.
policy::PeerAnswer ask_peer(const Target& target, Clock::time_point deadline) {
  std::string last_error;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto answer = checkers::ask_in_recovery(target.peer_conninfo,
                                            std::clamp(left, 100ms, 3000ms));
    if (answer) return *answer ? policy::PeerAnswer::standby : policy::PeerAnswer::primary;
    if (answer.status().message() != last_error) {
      last_error = answer.status().message();
      say("the peer's server ({}) does not answer yet: {}",
          checkers::server_of(target.peer_conninfo), last_error);
    }
    auto now = Clock::now();
    if (now >= deadline) return policy::PeerAnswer::none;
    std::this_thread::sleep_for(std::min<Clock::duration>(1s, deadline - now));
  }
}

}  // namespace

int run_pre_start(const Config& config, std::chrono::milliseconds wait) {
  std::vector<Target> targets;
  for (const auto& router : config.routers) {
    const CheckConfig* check = tracked_postgres_check(config, router);
    if (check == nullptr || check->peer_conninfo.empty()) continue;
    std::string pgdata = pgdata_of(router);
    if (pgdata.empty()) {
      say("router {}: hook_env PGDATA= is needed, to tell whether the server starts as a "
          "standby: refusing",
          router.params.name);
      return 1;
    }
    bool seen = std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
      return t.pgdata == pgdata && t.peer_conninfo == check->peer_conninfo;
    });
    if (!seen) targets.push_back({router.params.name, check->name, pgdata, check->peer_conninfo});
  }
  if (targets.empty()) {
    say("no router tracks a postgres check with peer_conninfo: nothing to compare with, the "
        "server may start");
    return 0;
  }
  auto deadline = Clock::now() + wait;
  int status = 0;
  for (const auto& target : targets) {
    auto local = local_start(target.pgdata);
    if (!local) {
      say("router {}: cannot tell what the server starts as: {}: refusing", target.router,
          local.status().message());
      status = 1;
      continue;
    }
    policy::PeerAnswer peer = policy::needs_peer_answer(*local)
                                  ? ask_peer(target, deadline)
                                  : policy::PeerAnswer::none;
    auto verdict = policy::decide_pre_start(*local, peer, checkers::server_of(target.peer_conninfo));
    say("router {}, {}: {}", target.router, target.pgdata, verdict.reason);
    if (!verdict.allow) status = 1;
  }
  return status;
}

}  // namespace pgvrrpd
