// format_config(): the effective configuration as ini text.
#include <fmt/format.h>

#include <string>

#include "vrrpd/config/config.h"

namespace pgvrrpd {
namespace {

// units / 10^decimals as the shortest exact decimal: 100 cs -> "1",
// 5 cs -> "0.05". The inverse of config::parse_fixed().
std::string decimal(int64_t units, int decimals) {
  int64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  std::string text = std::to_string(units / scale);
  int64_t fraction = units % scale;
  if (fraction == 0) return text;
  std::string digits = fmt::format("{:0{}}", fraction, decimals);
  digits.erase(digits.find_last_not_of('0') + 1);
  return text + "." + digits;
}

std::string milliseconds(Duration d) {
  return decimal(std::chrono::duration_cast<std::chrono::milliseconds>(d).count(), 3);
}

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string out;
  for (const std::string& word : words) {
    if (!out.empty()) out += separator;
    out += word;
  }
  return out;
}

}  // namespace

std::string format_config(const Config& config) {
  std::string out;
  auto line = [&out](std::string_view key, const std::string& value) {
    out += fmt::format("{} = {}\n", key, value);
  };
  out += "[global]\n";
  if (!config.node.empty()) line("node", config.node);
  line("control_socket", config.control_socket);
  if (!config.metrics_file.empty()) {
    line("metrics_file", config.metrics_file);
    line("metrics_interval", milliseconds(config.metrics_interval));
  }
  for (const RouterConfig& router : config.routers) {
    const vrrp::RouterParams& p = router.params;
    out += fmt::format("[router {}]\n", p.name);
    line("interface", router.interface);
    line("vrid", std::to_string(p.vrid));
    line("version", std::to_string(p.version));
    line("priority", std::to_string(p.priority));
    line("advert_interval", decimal(p.advert_interval.count(), 2));
    for (const IpPrefix& vip : router.params.virtual_ips) line("virtual_ip", vip.to_string());
    for (const IpAddress& peer : p.unicast_peers) line("unicast_peer", peer.to_string());
    if (router.unicast_source) line("unicast_source", router.unicast_source->to_string());
    if (!p.unicast_ttl_check) line("unicast_ttl_check", "false");
    for (const IpAddress& peer : p.peers) line("peer", peer.to_string());
    if (router.accept_any_source) line("accept_any_source", "true");
    line("preempt", p.preempt ? "true" : "false");
    line("vip_lease", std::to_string(router.vip_lease_seconds));
    line("garp_repeat", std::to_string(router.garp_repeat));
    line("garp_delay", milliseconds(router.garp_delay));
    line("garp_refresh", milliseconds(router.garp_refresh));
    if (p.version == 3 && p.family == Family::ipv4)
      line("v3_checksum_pseudo_header",
           p.checksum_mode == vrrp::ChecksumMode::pseudo_header ? "true" : "false");
    if (p.auth_type == 1) {
      std::string pass(p.auth_data.begin(), p.auth_data.end());
      line("auth_pass", pass.substr(0, pass.find('\0')));
    }
    if (!router.track.empty()) line("track", join(router.track, ", "));
    const HookConfig& hooks = router.hooks;
    for (const auto& [key, member] : kHookKeys)
      if (const CommandConfig& command = hooks.*member; !command.empty())
        line(key, join(command.argv, " "));
    if (hooks.auto_rejoin) line("auto_rejoin", "true");
    line("hook_timeout", milliseconds(hooks.timeout));
    if (!hooks.user.empty()) line("hook_user", hooks.user);
    for (auto& [name, value] : hooks.env) line("hook_env", name + "=" + value);
    if (router.synchronous != RouterConfig::Synchronous::off) {
      line("synchronous", std::string(synchronous_name(router.synchronous)));
      line("sync_grace", milliseconds(router.sync_grace));
    }
  }
  for (const CheckConfig& check : config.checks) {
    out += fmt::format("[check {}]\n", check.name);
    line("type", std::string(check_type_name(check.type)));
    line("interval", milliseconds(check.interval));
    line("timeout", milliseconds(check.timeout));
    line("rise", std::to_string(check.rise));
    line("fall", std::to_string(check.fall));
    line("effect", check.effect == CheckEffect::weight ? "weight" : "fault");
    if (check.effect == CheckEffect::weight) line("weight", std::to_string(check.weight));
    if (!check.conninfo.empty()) line("conninfo", check.conninfo);
    if (!check.peer_conninfo.empty()) line("peer_conninfo", check.peer_conninfo);
    if (check.max_lag_bytes) line("max_lag", std::to_string(*check.max_lag_bytes));
    if (check.target) line("target", check.target->to_string());
    if (!check.command.empty()) line("command", join(check.command.argv, " "));
  }
  return out;
}

}  // namespace pgvrrpd
