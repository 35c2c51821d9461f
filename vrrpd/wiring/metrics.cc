// Daemon::metrics_text(): the Prometheus text exposition format (version
// 0.0.4) that node_exporter's textfile collector reads. Names and labels
// are documented in pgvrrpd(8), METRICS; keep them stable.
#include <fmt/format.h>

#include "checkers/pg_facts.h"
#include "vrrpd/wiring/daemon.h"

namespace pgvrrpd {
namespace {

// A label value: backslash, double quote and newline escaped.
std::string label(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

class Exposition {
 public:
  // A metric family: HELP and TYPE once, before its samples.
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  }
  void sample(std::string_view name, std::string_view labels, double value) {
    out_ += fmt::format("{}{}{}{} {}\n", name, labels.empty() ? "" : "{", labels,
                        labels.empty() ? "" : "}", value);
  }
  void sample(std::string_view name, std::string_view labels, uint64_t value) {
    out_ += fmt::format("{}{}{}{} {}\n", name, labels.empty() ? "" : "{", labels,
                        labels.empty() ? "" : "}", value);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

constexpr vrrp::State kStates[] = {vrrp::State::initialize, vrrp::State::backup,
                                   vrrp::State::master, vrrp::State::fault};

}  // namespace

std::string Daemon::metrics_text() const {
  Exposition x;
  auto router_label = [](const RouterRuntime& r) {
    return fmt::format("router=\"{}\"", label(r.config().params.name));
  };

  x.family("pgvrrpd_router_state", "gauge",
           "1 for the state the router is in, 0 for the others.");
  for (const auto& r : routers_)
    for (vrrp::State state : kStates)
      x.sample("pgvrrpd_router_state",
               fmt::format("{},state=\"{}\"", router_label(*r), vrrp::state_name(state)),
               uint64_t{r->router().state() == state});
  x.family("pgvrrpd_router_priority", "gauge",
           "The router's priority: the configured one (base) and the one it advertises.");
  for (const auto& r : routers_) {
    x.sample("pgvrrpd_router_priority", router_label(*r) + ",kind=\"base\"",
             uint64_t{r->config().params.priority});
    x.sample("pgvrrpd_router_priority", router_label(*r) + ",kind=\"effective\"",
             uint64_t{r->router().priority()});
  }
  x.family("pgvrrpd_router_transitions_total", "counter",
           "State changes since pgvrrpd started, by the state entered and the reason "
           "(the pairs that occurred).");
  for (const auto& r : routers_)
    for (const auto& [key, count] : r->transitions_by_cause())
      x.sample("pgvrrpd_router_transitions_total",
               fmt::format("{},to=\"{}\",reason=\"{}\"", router_label(*r),
                           vrrp::state_name(key.first), vrrp::cause_name(key.second)),
               count);
  x.family("pgvrrpd_router_takeover_allowed", "gauge",
           "1 when the takeover guard lets this node become master now.");
  for (const auto& r : routers_)
    x.sample("pgvrrpd_router_takeover_allowed", router_label(*r),
             uint64_t{!r->policy().takeover_verdict()});
  x.family("pgvrrpd_router_maintenance", "gauge",
           "1 while maintenance mode (pgvrrpctl) keeps the router from becoming master.");
  for (const auto& r : routers_)
    x.sample("pgvrrpd_router_maintenance", router_label(*r), uint64_t{r->policy().maintenance()});
  x.family("pgvrrpd_sync_mode", "gauge",
           "1 for the router's synchronous setting (off, on, strict), 0 for the others.");
  for (const auto& r : routers_)
    for (SyncMode mode : {SyncMode::off, SyncMode::on, SyncMode::strict})
      x.sample("pgvrrpd_sync_mode",
               fmt::format("{},mode=\"{}\"", router_label(*r), sync_mode_name(mode)),
               uint64_t{r->policy().sync_mode() == mode});
  x.family("pgvrrpd_sync_state", "gauge",
           "1 for what the primary's synchronous_standby_names says (synchronous, leaving, "
           "asynchronous, not pgvrrpd's), as this node last saw it; no sample when unknown.");
  for (const auto& r : routers_)
    if (std::string state = r->policy().sync_state(); !state.empty())
      for (SyncSetting s : {SyncSetting::on, SyncSetting::leaving, SyncSetting::off,
                            SyncSetting::foreign})
        x.sample("pgvrrpd_sync_state",
                 fmt::format("{},state=\"{}\"", router_label(*r), label(sync_setting_name(s))),
                 uint64_t{state == sync_setting_name(s)});
  x.family("pgvrrpd_sync_changes_total", "counter",
           "Changes of synchronous_standby_names this node applied, by the form it took.");
  for (const auto& r : routers_)
    for (const auto& [to, count] : r->policy().sync_changes_by_form())
      x.sample("pgvrrpd_sync_changes_total",
               fmt::format("{},to=\"{}\"", router_label(*r), label(to)), count);
  x.family("pgvrrpd_sync_promotion_blocked", "gauge",
           "1 while synchronous replication keeps this node's standby from promoting by itself.");
  for (const auto& r : routers_)
    x.sample("pgvrrpd_sync_promotion_blocked", router_label(*r),
             uint64_t{r->policy().sync_blocker(loop_.now()).has_value()});
  x.family("pgvrrpd_adverts_sent_total", "counter", "Adverts sent, each destination counted.");
  for (const auto& r : routers_)
    x.sample("pgvrrpd_adverts_sent_total", router_label(*r), r->adverts_sent());
  x.family("pgvrrpd_adverts_received_total", "counter",
           "VRRP packets received on the daemon's sockets, dropped ones included.");
  x.sample("pgvrrpd_adverts_received_total", "", received_);
  x.family("pgvrrpd_adverts_dropped_total", "counter", "Packets dropped, by reason.");
  for (size_t i = 1; i < dropped_.size(); ++i)
    x.sample("pgvrrpd_adverts_dropped_total",
             fmt::format("reason=\"{}\"", vrrp::reject_name(static_cast<vrrp::Reject>(i))),
             dropped_[i]);
  // Each family's samples in one group, as the format requires.
  x.family("pgvrrpd_hook_runs_total", "counter",
           "Hook runs that ended, by hook and result (success: exit status 0).");
  for (const auto& r : routers_)
    for (const auto& [key, runs] : r->policy().hook_runs())
      x.sample("pgvrrpd_hook_runs_total",
               fmt::format("{},hook=\"{}\",result=\"{}\"", router_label(*r), label(key.first),
                           key.second ? "success" : "failure"),
               runs);
  x.family("pgvrrpd_hook_last_duration_seconds", "gauge", "How long each hook's last run took.");
  for (const auto& r : routers_)
    for (const auto& h : r->policy().last_hooks())
      x.sample("pgvrrpd_hook_last_duration_seconds",
               fmt::format("{},hook=\"{}\"", router_label(*r), label(h.kind)),
               std::chrono::duration<double>(h.elapsed).count());

  x.family("pgvrrpd_check_passing", "gauge", "1 while the check passes.");
  for (const auto& [name, check] : checks_)
    x.sample("pgvrrpd_check_passing", fmt::format("check=\"{}\"", label(name)),
             uint64_t{check->passing()});
  // The servers a postgres check watches: (check, "local"/"peer", up, state).
  struct Server {
    std::string labels;
    bool up;
    const std::optional<checkers::PgServerState>* state;
  };
  std::vector<Server> servers;
  for (const auto& [name, pg] : postgres_checks_) {
    const checkers::PgFacts& f = pg->facts();
    servers.push_back({fmt::format("check=\"{}\",server=\"local\"", label(name)), f.alive,
                       &f.local});
    if (f.peer_configured)
      servers.push_back({fmt::format("check=\"{}\",server=\"peer\"", label(name)),
                         f.peer_alive, &f.peer});
  }
  x.family("pgvrrpd_pg_up", "gauge", "1 while the server answers.");
  for (const Server& s : servers) x.sample("pgvrrpd_pg_up", s.labels, uint64_t{s.up});
  x.family("pgvrrpd_pg_role", "gauge",
           "1 for the role the server last answered with, 0 for the others.");
  for (const Server& s : servers)
    for (PgRole role : {PgRole::primary, PgRole::standby, PgRole::unknown})
      x.sample("pgvrrpd_pg_role", fmt::format("{},role=\"{}\"", s.labels, to_string(role)),
               uint64_t{(*s.state ? (*s.state)->role : PgRole::unknown) == role});
  x.family("pgvrrpd_pg_timeline", "gauge", "The server's timeline, 0 when unknown.");
  for (const Server& s : servers)
    x.sample("pgvrrpd_pg_timeline", s.labels, uint64_t{*s.state ? (*s.state)->timeline : 0u});
  x.family("pgvrrpd_pg_lag_bytes", "gauge",
           "Local standby: bytes of WAL it has not replayed yet (absent when unknown).");
  for (const auto& [name, pg] : postgres_checks_)
    if (const auto& lag = pg->facts().replay_lag_bytes)
      x.sample("pgvrrpd_pg_lag_bytes", fmt::format("check=\"{}\"", label(name)), *lag);
  x.family("pgvrrpd_pg_lag_seconds", "gauge",
           "Local standby: age of the last replayed transaction (absent when unknown).");
  for (const auto& [name, pg] : postgres_checks_) {
    const auto& local = pg->facts().local;
    if (local && local->replay_lag_seconds)
      x.sample("pgvrrpd_pg_lag_seconds", fmt::format("check=\"{}\"", label(name)),
               *local->replay_lag_seconds);
  }
  return x.take();
}

}  // namespace pgvrrpd
