// Daemon::control(): the answers pgvrrpctl prints. The JSON form is
// versioned (kStatusSchema) and documented in pgvrrpctl(8); the text form is
// for people and may change.
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <vector>

#include <fmt/format.h>

#include "checkers/pg_facts.h"
#include "vrrpd/basics/json_writer.h"
#include "vrrpd/wiring/daemon.h"

namespace pgvrrpd {
namespace {

constexpr int kStatusSchema = 1;

double seconds_between(TimePoint from, TimePoint to) {
  return std::chrono::duration<double>(to - from).count();
}

std::string utc(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

std::string lsn_or_dash(const std::optional<uint64_t>& lsn) {
  return lsn ? checkers::format_lsn(*lsn) : "-";
}

// The server's best known position: what a primary writes, what a
// standby has replayed.
std::optional<uint64_t> position(const checkers::PgServerState& s) {
  return s.role == PgRole::primary ? s.current_lsn : s.replay_lsn;
}

void write_lsn(JsonWriter& w, std::string_view key, const std::optional<uint64_t>& lsn) {
  w.key(key);
  if (lsn)
    w.value(checkers::format_lsn(*lsn));
  else
    w.null();
}

void write_server(JsonWriter& w, bool alive, const std::optional<checkers::PgServerState>& s,
                  const std::string& error) {
  w.begin_object().key("alive").value(alive);
  w.key("role").value(s ? to_string(s->role) : "unknown");
  w.key("timeline").value(s ? s->timeline : 0u);
  write_lsn(w, "lsn", s ? position(*s) : std::nullopt);
  w.key("error").value(error);
  w.end_object();
}

}  // namespace

std::string Daemon::control(std::string_view request) {
  std::vector<std::string_view> words;
  for (size_t at = 0; at < request.size();) {
    size_t end = request.find(' ', at);
    if (end == std::string_view::npos) end = request.size();
    if (end > at) words.push_back(request.substr(at, end - at));
    at = end + 1;
  }
  if (words.size() == 1 && words[0] == "status") return status_text();
  if (words.size() == 2 && words[0] == "status" && words[1] == "json") return status_json();
  if (words.size() == 1 && words[0] == "reload") return reload();
  // "reload status": whether a reload is still stopping routers, else how
  // the last one ended (pgvrrpctl reload waits on it).
  if (words.size() == 2 && words[0] == "reload" && words[1] == "status")
    return reloading() ? std::string("reloading\n")
                       : "done: " + (last_reload_.empty() ? std::string("no reload yet")
                                                         : last_reload_) + "\n";
  bool maintenance = words.size() >= 2 && words.size() <= 3 && words[0] == "maintenance" &&
                     (words[1] == "on" || words[1] == "off");
  bool force = words.size() >= 2 && words.size() <= 3 && words[0] == "promote" &&
               words[1] == "force";
  // "switchover TO [ROUTER]", TO "-" when pgvrrpctl got no --to;
  // "switchover status [ROUTER]": where it stands, on one line.
  bool switchover = words.size() >= 2 && words.size() <= 3 && words[0] == "switchover";
  bool switchover_status = switchover && words[1] == "status";
  if (!maintenance && !force && !switchover)
    return fmt::format("error: unknown request '{}'\n", request.substr(0, 64));

  // The routers meant: the one named, or every one (maintenance) / the only
  // one (a forced promotion must name its router when there are several).
  std::vector<RouterRuntime*> targets;
  if (words.size() == 3) {
    for (auto& r : routers_)
      if (r->config().params.name == words[2]) targets.push_back(r.get());
    if (targets.empty()) return fmt::format("error: unknown router '{}'\n", words[2]);
  } else if ((force || switchover) && routers_.size() > 1) {
    return fmt::format("error: several routers: name the one to {} (--router NAME)\n",
                       force ? "promote" : "hand over");
  } else {
    for (auto& r : routers_) targets.push_back(r.get());
  }
  std::string answer;
  for (RouterRuntime* r : targets) {
    const std::string& name = r->config().params.name;
    if (maintenance) {
      r->policy().set_maintenance(words[1] == "on");
      answer += fmt::format("router {}: maintenance {}\n", name, words[1]);
      continue;
    }
    if (switchover_status) {
      const Switchover& so = r->policy().switchover();
      std::string handover = "-";
      if (so.handover_time())
        handover =
            fmt::format("{:.3f}", std::chrono::duration<double>(*so.handover_time()).count());
      answer += fmt::format("router {} phase {} handover_s {} detail {}\n", name,
                            to_string(so.phase()), handover, so.detail());
      continue;
    }
    if (switchover) {
      std::string to = words[1] == "-" ? "" : std::string(words[1]);
      if (auto started = r->policy().start_switchover(to); !started)
        return fmt::format("error: router {}: switchover refused: {}\n", name, started.message());
      answer += fmt::format("router {}: switchover to {} started\n", name,
                            r->policy().switchover().to());
      continue;
    }
    if (auto forced = r->policy().force_takeover(); !forced)
      return fmt::format("error: router {}: {}\n", name, forced.message());
    answer += fmt::format("router {}: takeover forced; now {}\n", name,
                          vrrp::state_name(r->router().state()));
  }
  return answer;
}

std::string Daemon::status_json() const {
  auto now = loop_.now();
  JsonWriter w;
  w.begin_object();
  w.key("schema").value(kStatusSchema);
  w.key("pgvrrpd").value(PGVRRPD_VERSION);
  w.key("node").value(config_->node);
  w.key("pid").value(static_cast<int64_t>(getpid()));
  w.key("uptime_s").value(seconds_between(started_at_, now));
  w.key("reloading").value(reloading());
  w.key("routers").begin_array();
  for (const auto& r : routers_) {
    const vrrp::Router& router = r->router();
    const RouterConfig& rc = r->config();
    w.begin_object();
    w.key("name").value(rc.params.name);
    w.key("vrid").value(static_cast<int>(rc.params.vrid));
    w.key("interface").value(rc.interface);
    w.key("family").value(family_name(rc.params.family));
    w.key("version").value(static_cast<int>(rc.params.version));
    w.key("state").value(vrrp::state_name(router.state()));
    w.key("priority").begin_object()
        .key("base").value(static_cast<int>(rc.params.priority))
        .key("effective").value(static_cast<int>(router.priority()))
        .end_object();
    w.key("master");
    if (router.state() == vrrp::State::master)
      w.value("self");
    else if (router.last_master())
      w.value(router.last_master()->to_string());
    else
      w.null();
    w.key("decided").value(router.decided());
    w.key("maintenance").value(r->policy().maintenance());
    w.key("vips").begin_array();
    for (const IpPrefix& vip : rc.params.virtual_ips) w.value(vip.to_string());
    w.end_array();
    auto verdict = r->policy().takeover_verdict();
    w.key("takeover").begin_object()
        .key("allowed").value(!verdict)
        .key("held").value(router.takeover_held())
        .key("reason").value(verdict.value_or(""))
        .end_object();
    w.key("last_transition");
    if (const auto& t = r->last_transition()) {
      w.begin_object()
          .key("from").value(vrrp::state_name(t->from))
          .key("to").value(vrrp::state_name(t->to))
          .key("reason").value(t->reason)
          .key("at").value(utc(t->wall))
          .key("ago_s").value(seconds_between(t->at, now))
          .end_object();
    } else {
      w.null();
    }
    const RouterPolicy& policy = r->policy();
    w.key("fencing").begin_object()
        .key("fence_running").value(policy.fence_running())
        .key("rejoin_running").value(policy.rejoin_running())
        .key("fence_runs").value(policy.fence_runs())
        .key("next_retry_in_s");
    if (auto retry = policy.next_fence_retry())
      w.value(std::max(0.0, seconds_between(now, *retry)));
    else
      w.null();
    w.end_object();
    w.key("synchronous").begin_object().key("mode").value(sync_mode_name(policy.sync_mode()));
    w.key("standby_healthy");
    if (router.state() == vrrp::State::master && policy.sync_mode() != SyncMode::off)
      w.value(policy.sync_keeper().standby_healthy());
    else
      w.null();
    w.key("state");
    if (std::string state = policy.sync_state(); !state.empty())
      w.value(state);
    else
      w.null();
    w.key("changes").value(policy.sync_changes());
    w.key("last_change");
    if (const auto& c = policy.last_sync_change())
      w.begin_object()
          .key("to").value(c->what)
          .key("why").value(c->why)
          .key("ago_s").value(seconds_between(c->at, now))
          .end_object();
    else
      w.null();
    w.key("promotion_blocker");
    if (auto b = policy.sync_blocker(now))
      w.value(*b);
    else
      w.null();
    w.end_object();
    const Switchover& so = policy.switchover();
    w.key("switchover");
    if (so.phase() == Switchover::Phase::none) {
      w.null();
    } else {
      w.begin_object()
          .key("phase").value(to_string(so.phase()))
          .key("to").value(so.to())
          .key("detail").value(so.detail())
          .key("started_ago_s").value(seconds_between(so.started_at(), now))
          .key("changed_ago_s").value(seconds_between(so.changed_at(), now))
          .key("handover_s");
      if (so.handover_time())
        w.value(std::chrono::duration<double>(*so.handover_time()).count());
      else
        w.null();
      w.end_object();
    }
    w.key("hooks").begin_array();
    for (const auto& h : r->policy().last_hooks()) {
      w.begin_object()
          .key("hook").value(h.kind)
          .key("result").value(h.result)
          .key("success").value(h.success)
          .key("duration_s").value(std::chrono::duration<double>(h.elapsed).count())
          .key("ago_s").value(seconds_between(h.at, now))
          .end_object();
    }
    w.end_array();
    w.key("track").begin_array();
    for (const auto& name : rc.track) w.value(name);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("checks").begin_array();
  for (const auto& [name, check] : checks_) {
    const CheckConfig& cc = *checker_configs_.at(name);
    w.begin_object();
    w.key("name").value(name);
    w.key("type").value(check_type_name(cc.type));
    w.key("passing").value(check->passing());
    w.key("reason").value(check->reason());
    if (auto pg = postgres_checks_.find(name); pg != postgres_checks_.end()) {
      const checkers::PgFacts& f = pg->second->facts();
      w.key("local");
      write_server(w, f.alive, f.local, f.error);
      w.key("streaming").value(f.streaming);
      w.key("last_streaming_ago_s");
      if (f.last_streaming_at)
        w.value(seconds_between(*f.last_streaming_at, now));
      else
        w.null();
      w.key("lag_bytes");
      if (f.replay_lag_bytes)
        w.value(*f.replay_lag_bytes);
      else
        w.null();
      w.key("lag_s");
      if (f.local && f.local->replay_lag_seconds)
        w.value(*f.local->replay_lag_seconds);
      else
        w.null();
      w.key("peer");
      if (f.peer_configured)
        write_server(w, f.peer_alive, f.peer, f.peer_error);
      else
        w.null();
    }
    w.end_object();
  }
  w.end_array();
  w.key("packets").begin_object().key("received").value(received_);
  w.key("dropped").begin_object();
  for (size_t i = 1; i < dropped_.size(); ++i)
    if (dropped_[i] > 0) w.key(vrrp::reject_name(static_cast<vrrp::Reject>(i))).value(dropped_[i]);
  w.end_object().end_object();
  w.end_object();
  return w.text() + "\n";
}

std::string Daemon::status_text() const {
  auto now = loop_.now();
  std::string out = fmt::format("pgvrrpd {} on {} (pid {}, up {:.0f} s)\n\n", PGVRRPD_VERSION,
                                config_->node.empty() ? "(unnamed node)" : config_->node, getpid(),
                                seconds_between(started_at_, now));
  out += fmt::format("{:<12} {:>4}  {:<7} {:>8}  {:<16} {}\n", "ROUTER", "VRID", "STATE",
                     "PRIORITY", "MASTER", "LAST TRANSITION");
  for (const auto& r : routers_) {
    const vrrp::Router& router = r->router();
    const RouterConfig& rc = r->config();
    std::string priority = std::to_string(router.priority());
    if (router.priority() != rc.params.priority)
      priority += fmt::format("/{}", rc.params.priority);
    std::string master = router.state() == vrrp::State::master ? "this node"
                         : router.last_master()                ? router.last_master()->to_string()
                                                               : "-";
    std::string last = "-";
    if (const auto& t = r->last_transition())
      last = fmt::format("{:.1f} s ago {} -> {}: {}", seconds_between(t->at, now),
                         vrrp::state_name(t->from), vrrp::state_name(t->to), t->reason);
    out += fmt::format("{:<12} {:>4}  {:<7} {:>8}  {:<16} {}\n", rc.params.name,
                       rc.params.vrid, vrrp::state_name(router.state()), priority, master, last);
    if (r->policy().maintenance())
      out += fmt::format("{:<12} maintenance mode: will not become master\n", "");
    else if (auto verdict = r->policy().takeover_verdict())
      out += fmt::format("{:<12} takeover {}: {}\n", "",
                         router.takeover_held() ? "held" : "would be held", *verdict);
    const RouterPolicy& policy = r->policy();
    if (const Switchover& so = policy.switchover(); so.phase() != Switchover::Phase::none)
      out += fmt::format("{:<12} switchover to {}: {} {:.1f} s ago: {}\n", "", so.to(),
                         to_string(so.phase()), seconds_between(so.changed_at(), now),
                         so.detail());
    if (policy.sync_mode() != SyncMode::off) {
      std::string last = "no change yet";
      if (const auto& c = policy.last_sync_change())
        last = fmt::format("{} {:.1f} s ago: {}", c->what, seconds_between(c->at, now), c->why);
      out += fmt::format("{:<12} synchronous = {}: {}\n", "", sync_mode_name(policy.sync_mode()),
                         last);
    }
    if (policy.fence_running() || policy.rejoin_running())
      out += fmt::format("{:<12} {} running\n", "", policy.fence_running() ? "fence" : "rejoin");
    if (auto retry = policy.next_fence_retry())
      out += fmt::format("{:<12} fence/rejoin retry in {:.0f} s (fence runs so far: {})\n", "",
                         std::max(0.0, seconds_between(now, *retry)), policy.fence_runs());
    for (const auto& h : r->policy().last_hooks())
      out += fmt::format("{:<12} hook {}: {} after {:.3f} s, {:.0f} s ago\n", "", h.kind,
                         h.result, std::chrono::duration<double>(h.elapsed).count(),
                         seconds_between(h.at, now));
  }
  if (!checks_.empty()) {
    out += fmt::format("\n{:<12} {:<9} {:<8} {}\n", "CHECK", "TYPE", "VERDICT", "DETAIL");
    for (const auto& [name, check] : checks_) {
      const CheckConfig& cc = *checker_configs_.at(name);
      std::string detail = check->reason();
      if (auto pg = postgres_checks_.find(name); pg != postgres_checks_.end()) {
        const checkers::PgFacts& f = pg->second->facts();
        detail = f.local ? fmt::format("local {} tl {} lsn {}", to_string(f.local->role),
                                       f.local->timeline, lsn_or_dash(position(*f.local)))
                         : "local " + (f.error.empty() ? std::string("unknown") : f.error);
        if (f.replay_lag_bytes) detail += fmt::format(" lag {} B", *f.replay_lag_bytes);
        if (f.peer_configured && f.peer_alive && f.peer)
          detail += fmt::format("; peer {} tl {} lsn {}", to_string(f.peer->role),
                                f.peer->timeline, lsn_or_dash(position(*f.peer)));
        else if (f.peer_configured && f.peer)
          detail += fmt::format("; peer not answering (last seen {} tl {} lsn {})",
                                to_string(f.peer->role), f.peer->timeline,
                                lsn_or_dash(position(*f.peer)));
        else if (f.peer_configured)
          detail += "; peer not answering";
      }
      out += fmt::format("{:<12} {:<9} {:<8} {}\n", name, check_type_name(cc.type),
                         check->passing() ? "passing" : "failing", detail);
    }
  }
  uint64_t dropped = 0;
  for (uint64_t d : dropped_) dropped += d;
  out += fmt::format("\nadverts received {}, dropped {}", received_, dropped);
  std::string reasons;
  for (size_t i = 1; i < dropped_.size(); ++i)
    if (dropped_[i] > 0)
      reasons += fmt::format("{}{} {}", reasons.empty() ? "" : ", ",
                             vrrp::reject_name(static_cast<vrrp::Reject>(i)), dropped_[i]);
  if (!reasons.empty()) out += " (" + reasons + ")";
  return out + "\n";
}

}  // namespace pgvrrpd
