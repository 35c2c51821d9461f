#include "vrrpd/config/config_router.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "vrrpd/config/config_values.h"

namespace pgvrrpd::config {
namespace {

constexpr KeyRule kRouterKeys[] = {
    {"interface", false, true},
    {"vrid", false, true},
    {"version", false, false},
    {"priority", false, false},
    {"advert_interval", false, false},
    {"virtual_ip", true, true},
    {"unicast_peer", true, false},
    {"unicast_source", false, false},
    {"unicast_ttl_check", false, false},
    {"peer", true, false},
    {"accept_any_source", false, false},
    {"preempt", false, false},
    {"vip_lease", false, false},
    {"garp_repeat", false, false},
    {"garp_delay", false, false},
    {"garp_refresh", false, false},
    {"v3_checksum_pseudo_header", false, false},
    {"auth_pass", false, false},
    {"track", true, false},
    {"on_master", false, false},
    {"on_backup", false, false},
    {"on_fault", false, false},
    {"on_stop", false, false},
    {"notify", false, false},
    {"fence", false, false},
    {"rejoin", false, false},
    {"switchover", false, false},
    {"auto_rejoin", false, false},
    {"hook_timeout", false, false},
    {"hook_user", false, false},
    {"hook_env", true, false},
    {"synchronous", false, false},
    {"sync_grace", false, false},
};

constexpr std::string_view kBoolExpected = "true/false, yes/no, on/off or 1/0";

// The checks below share what is known so far about the router; nullopt
// means the value was wrong (already reported), so checks that depend on it
// stay quiet instead of piling up errors about one mistake.
struct Context {
  const Keys& keys;
  const Reporter& report;
  CheckedRouter& out;
  std::optional<uint8_t> version = 3;
  std::optional<Family> family;
};

std::optional<uint32_t> parse_uint_key(Context& c, std::string_view key, uint32_t min,
                                   uint32_t max, std::string_view unit = {}) {
  const IniEntry* e = first(c.keys, key);
  if (e == nullptr) return std::nullopt;
  auto value = parse_uint(e->value, min, max);
  if (!value)
    c.report(e->line, fmt::format("{} must be {}{}..{}, got {}", key, unit, min, max, e->value));
  return value;
}

// A duration in seconds with millisecond resolution, within [0, max_seconds].
std::optional<Duration> parse_seconds(Context& c, std::string_view key,
                                      int64_t max_seconds) {
  const IniEntry* e = first(c.keys, key);
  if (e == nullptr) return std::nullopt;
  auto value = parse_fixed(e->value, 3);
  if (value.too_fine) {
    c.report(e->line, fmt::format("{} must be a multiple of 0.001, got {}", key, e->value));
    return std::nullopt;
  }
  if (!value.units || *value.units > max_seconds * 1000) {
    c.report(e->line, fmt::format("{} must be 0..{} seconds, got {}", key, max_seconds, e->value));
    return std::nullopt;
  }
  return std::chrono::milliseconds(*value.units);
}

std::optional<bool> parse_bool_key(Context& c, const IniEntry* e, std::string_view key) {
  if (e == nullptr) return std::nullopt;
  auto value = parse_bool(e->value);
  if (!value) c.report(e->line, fmt::format("{} must be {}, got {}", key, kBoolExpected, e->value));
  return value;
}

// VRRP only makes sense for addresses a host can own and answer for.
bool usable(const IpAddress& address) {
  return !address.is_multicast() && !address.is_unspecified();
}

void parse_advert_interval(Context& c) {
  const IniEntry* e = first(c.keys, "advert_interval");
  if (e == nullptr) return;
  auto value = parse_fixed(e->value, 2);
  auto& params = c.out.router.params;
  if (c.version == 2) {
    // RFC 3768 5.3.7: Adver Int is 8 bits of whole seconds.
    if (!value.units || *value.units % 100 != 0 || *value.units < 100 || *value.units > 25500)
      c.report(e->line, fmt::format("advert_interval must be whole seconds 1..255 with "
                                    "version 2, got {}",
                                    e->value));
    else
      params.advert_interval = Centiseconds(*value.units);
    return;
  }
  // RFC 5798 5.2.7: Max Adver Int is 12 bits of centiseconds.
  if (value.too_fine)
    c.report(e->line, fmt::format("advert_interval must be a multiple of 0.01, got {}", e->value));
  else if (!value.units || *value.units < 1 || *value.units > 4095)
    c.report(e->line, fmt::format("advert_interval must be 0.01..40.95 seconds, got {}", e->value));
  else
    params.advert_interval = Centiseconds(*value.units);
}

void parse_virtual_ips(Context& c) {
  auto it = c.keys.find("virtual_ip");
  if (it == c.keys.end()) return;
  auto& router = c.out.router;
  int first_line = 0;
  std::map<IpAddress, int> seen;
  for (const IniEntry* e : it->second) {
    auto parsed = parse_prefix(e->value);
    const IpAddress& address = parsed.prefix.address;
    if (parsed.error == PrefixResult::Error::bad_address) {
      c.report(e->line, fmt::format("virtual_ip must be address or address/prefix, got {}",
                                    e->value));
      continue;
    }
    if (parsed.error == PrefixResult::Error::bad_length) {
      c.report(e->line, fmt::format("virtual_ip prefix length must be 1..{} for {}, got {}",
                                    address.family() == Family::ipv4 ? 32 : 128,
                                    family_name(address.family()), e->value));
      continue;
    }
    if (!usable(address)) {
      c.report(e->line, fmt::format("virtual_ip must be a unicast address, got {}", e->value));
      continue;
    }
    if (!c.family) {
      // The first address sets the router's family.
      c.family = address.family();
      first_line = e->line;
      if (c.version == 2 && address.family() != Family::ipv4) {
        // RFC 3768 is IPv4 only.
        // Reported once; the other addresses are still checked.
        c.report(e->line, fmt::format("virtual_ip must be IPv4 with version 2, got {}", e->value));
      }
    } else if (address.family() != *c.family) {
      c.report(e->line, fmt::format("virtual_ip must be {} like the first at line {}, got {}",
                                    family_name(*c.family), first_line, e->value));
      continue;
    }
    if (auto [at, inserted] = seen.emplace(address, e->line); !inserted) {
      c.report(e->line, fmt::format("duplicate virtual_ip {}, first at line {}",
                                    address.to_string(), at->second));
      continue;
    }
    // The advert's Count IPvX Addr field is 8 bits (RFC 5798 5.2.6).
    if (router.params.virtual_ips.size() == 255) {
      c.report(e->line, "too many virtual_ip: at most 255 per router");
      return;
    }
    router.params.virtual_ips.push_back(parsed.prefix);
  }
  if (c.family) router.params.family = *c.family;
}

// Parses an address for `key` and checks it against the router's family.
std::optional<IpAddress> parse_address_key(Context& c, const IniEntry* e, std::string_view key) {
  auto address = IpAddress::parse(e->value);
  if (!address) {
    c.report(e->line, fmt::format("{} must be an address, got {}", key, e->value));
    return std::nullopt;
  }
  if (!usable(*address)) {
    c.report(e->line, fmt::format("{} must be a unicast address, got {}", key, e->value));
    return std::nullopt;
  }
  if (c.family && address->family() != *c.family) {
    c.report(e->line, fmt::format("{} must be {} like virtual_ip, got {}", key,
                                  family_name(*c.family), e->value));
    return std::nullopt;
  }
  return address;
}

void parse_unicast(Context& c) {
  auto& router = c.out.router;
  std::map<IpAddress, int> seen;
  if (auto it = c.keys.find("unicast_peer"); it != c.keys.end()) {
    for (const IniEntry* e : it->second) {
      auto address = parse_address_key(c, e, "unicast_peer");
      if (!address) continue;
      if (auto [at, inserted] = seen.emplace(*address, e->line); !inserted) {
        c.report(e->line, fmt::format("duplicate unicast_peer {}, first at line {}",
                                      address->to_string(), at->second));
        continue;
      }
      router.params.unicast_peers.push_back(*address);
    }
  }
  const IniEntry* e = first(c.keys, "unicast_source");
  if (e == nullptr) return;
  auto source = parse_address_key(c, e, "unicast_source");
  if (!source) return;
  auto& vips = router.params.virtual_ips;
  if (seen.contains(*source)) {
    c.report(e->line, fmt::format("unicast_source {} is also a unicast_peer (line {})",
                                  source->to_string(), seen[*source]));
  } else if (std::any_of(vips.begin(), vips.end(),
                         [&](const IpPrefix& vip) { return vip.address == *source; })) {
    // The source must stay put when the VIPs move to the other node.
    c.report(e->line, fmt::format("unicast_source must not be a virtual_ip, got {}", e->value));
  } else {
    router.unicast_source = source;
  }
}

// Whom adverts are accepted from: peer = (any mode) and unicast_peer; a
// multicast router without peers obeys anyone on the link.
void parse_peers(Context& c) {
  auto& router = c.out.router;
  auto& params = router.params;
  std::map<IpAddress, int> seen;
  if (auto it = c.keys.find("peer"); it != c.keys.end()) {
    for (const IniEntry* e : it->second) {
      auto address = parse_address_key(c, e, "peer");
      if (!address) continue;
      if (auto [at, inserted] = seen.emplace(*address, e->line); !inserted) {
        c.report(e->line, fmt::format("duplicate peer {}, first at line {}", address->to_string(),
                                      at->second));
        continue;
      }
      params.peers.push_back(*address);
    }
  }
  bool any_source_reported = false;  // an error about it already
  if (const IniEntry* e = first(c.keys, "accept_any_source")) {
    auto any = parse_bool_key(c, e, "accept_any_source");
    any_source_reported = !any || (*any && (!seen.empty() || !params.unicast_peers.empty()));
    if (any) {
      if (*any && !seen.empty())
        c.report(e->line, fmt::format("accept_any_source = true contradicts peer (line {}): "
                                      "with peers, adverts are accepted only from them",
                                      seen.begin()->second));
      else if (*any && !params.unicast_peers.empty())
        c.report(e->line, "accept_any_source applies only to multicast; a unicast router "
                          "accepts adverts only from its unicast_peer addresses");
      else
        router.accept_any_source = *any;
    }
  }
  if (params.unicast_peers.empty() && !c.keys.contains("peer") && !router.accept_any_source &&
      !any_source_reported && !c.keys.contains("unicast_peer"))
    c.report(c.out.router.line,
             "a multicast router needs peer = the other node's address (adverts are obeyed "
             "only from it), or accept_any_source = true to obey any host on the link");
  if (const IniEntry* e = first(c.keys, "unicast_ttl_check")) {
    if (auto check = parse_bool_key(c, e, "unicast_ttl_check")) {
      if (params.unicast_peers.empty())
        c.report(e->line, "unicast_ttl_check applies only with unicast_peer");
      else
        params.unicast_ttl_check = *check;
    }
  }
}

void validate_version_specific(Context& c) {
  auto& params = c.out.router.params;
  if (const IniEntry* e = first(c.keys, "v3_checksum_pseudo_header")) {
    auto value = parse_bool_key(c, e, "v3_checksum_pseudo_header");
    if (c.version == 2)
      c.report(e->line, "v3_checksum_pseudo_header applies only to version 3");
    else if (c.family == Family::ipv6)
      c.report(e->line, "v3_checksum_pseudo_header applies only to IPv4; IPv6 always "
                        "uses its pseudo-header");
    else if (value)
      params.checksum_mode = *value ? vrrp::ChecksumMode::pseudo_header
                                    : vrrp::ChecksumMode::plain;
  }
  if (const IniEntry* e = first(c.keys, "auth_pass")) {
    if (c.version == 3) {
      c.report(e->line, "auth_pass applies only to version 2; VRRPv3 has no authentication");
    } else if (e->value.size() > vrrp::kV2AuthSize) {
      // The length, not the value: this ends up in logs.
      c.report(e->line, fmt::format("auth_pass must be 1..{} characters, got {} characters",
                                    vrrp::kV2AuthSize, e->value.size()));
    } else if (c.version == 2) {
      params.auth_type = 1;  // RFC 3768 5.3.6: simple text password
      std::copy(e->value.begin(), e->value.end(), params.auth_data.begin());
    }
  }
}

// `track = pg, gw`: names are resolved against the [check] sections later,
// in parse_config(), since a check may be defined after the router.
void parse_track(Context& c) {
  auto it = c.keys.find("track");
  if (it == c.keys.end()) return;
  for (const IniEntry* e : it->second) {
    std::string_view rest = e->value;
    std::vector<std::string_view> names;
    bool ok = true;
    while (true) {
      auto comma = rest.find(',');
      std::string_view word = rest.substr(0, comma);
      word.remove_prefix(std::min(word.find_first_not_of(" \t"), word.size()));
      word.remove_suffix(word.size() - (word.find_last_not_of(" \t") + 1));
      if (!valid_router_name(word)) ok = false;
      names.push_back(word);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (!ok) {
      c.report(e->line, fmt::format("track must be check names separated by commas, got {}",
                                    e->value));
      continue;
    }
    for (auto name : names) c.out.track.push_back({e->line, std::string(name)});
  }
}

void parse_synchronous(Context& c) {
  RouterConfig& router = c.out.router;
  if (const IniEntry* e = first(c.keys, "synchronous")) {
    router.synchronous_line = e->line;
    using S = RouterConfig::Synchronous;
    bool known = false;
    for (S mode : {S::off, S::on, S::strict})
      if (e->value == synchronous_name(mode)) {
        router.synchronous = mode;
        known = true;
      }
    if (!known)
      c.report(e->line, fmt::format("synchronous must be off, on or strict, got {}", e->value));
  }
  if (const IniEntry* e = first(c.keys, "sync_grace")) {
    if (auto grace = parse_seconds(c, "sync_grace", 3600)) {
      if (*grace < std::chrono::seconds(1))
        c.report(e->line, fmt::format("sync_grace must be 1..3600 seconds, got {}", e->value));
      else
        router.sync_grace = *grace;
    }
    if (router.synchronous_line == 0) router.synchronous_line = e->line;
  }
}

void parse_hooks(Context& c) {
  HookConfig& hooks = c.out.router.hooks;
  for (const auto& [key, member] : kHookKeys) {
    if (const IniEntry* e = first(c.keys, key))
      if (auto command = parse_command_key(*e, c.report)) hooks.*member = *command;
  }
  if (const IniEntry* e = first(c.keys, "auto_rejoin")) {
    if (auto on = parse_bool_key(c, e, "auto_rejoin")) {
      hooks.auto_rejoin = *on;
      if (*on && !first(c.keys, "rejoin"))
        c.report(e->line, "auto_rejoin = true needs a rejoin command");
      else if (*on && c.out.router.accept_any_source)
        c.report(e->line, "auto_rejoin = true copies the database from the master an advert "
                          "names: it needs peer = (or unicast_peer), not accept_any_source");
    }
  }
  // A rejoin by pg_basebackup can take hours; the operator says how long.
  if (auto timeout = parse_duration(c.keys, c.report, "hook_timeout", 100, 86400'000,
                                    "0.1..86400"))
    hooks.timeout = *timeout;
  if (const IniEntry* e = first(c.keys, "hook_user")) {
    if (valid_user_name(e->value))
      hooks.user = e->value;
    else
      c.report(e->line, fmt::format("hook_user must be a user name (up to 32 of a-z 0-9 _ -, "
                                    "starting with a letter or _), got {}",
                                    e->value));
  }
  auto it = c.keys.find("hook_env");
  if (it == c.keys.end()) return;
  std::map<std::string, int> seen;
  for (const IniEntry* e : it->second) {
    auto equals = e->value.find('=');
    std::string name = e->value.substr(0, equals);
    if (equals == std::string::npos || !valid_env_name(name)) {
      c.report(e->line, fmt::format("hook_env must be NAME=value, NAME of A-Z a-z 0-9 _ not "
                                    "starting with a digit, got {}",
                                    e->value));
      continue;
    }
    if (auto [at, inserted] = seen.emplace(name, e->line); !inserted) {
      c.report(e->line, fmt::format("duplicate hook_env {}, first at line {}", name, at->second));
      continue;
    }
    std::string value = e->value.substr(equals + 1);
    if (std::find(kHookEnvCommands.begin(), kHookEnvCommands.end(), name) !=
        kHookEnvCommands.end()) {
      // A program the hooks run: held to the rules of a hook command.
      IniEntry as_command{e->line, "hook_env " + name, value};
      auto command = parse_command_key(as_command, c.report);
      if (!command) continue;
      hooks.env_commands.emplace_back(name, std::move(*command));
    }
    hooks.env.emplace_back(name, std::move(value));
  }
}

}  // namespace

std::optional<Duration> parse_duration(const Keys& keys, const Reporter& report,
                                       std::string_view key, int64_t min_ms, int64_t max_ms,
                                       std::string_view range) {
  const IniEntry* e = first(keys, key);
  if (e == nullptr) return std::nullopt;
  auto value = parse_fixed(e->value, 3);
  if (value.too_fine) {
    report(e->line, fmt::format("{} must be a multiple of 0.001, got {}", key, e->value));
    return std::nullopt;
  }
  if (!value.units || *value.units < min_ms || *value.units > max_ms) {
    report(e->line, fmt::format("{} must be {} seconds, got {}", key, range, e->value));
    return std::nullopt;
  }
  return std::chrono::milliseconds(*value.units);
}

std::optional<CommandConfig> parse_command_key(const IniEntry& e, const Reporter& report) {
  auto parsed = parse_command(e.value);
  switch (parsed.error) {
    case CommandResult::Error::none:
      return CommandConfig{e.line, std::move(parsed.argv)};
    case CommandResult::Error::not_absolute:
      report(e.line, fmt::format("{} must start with an absolute path, got {}", e.key, e.value));
      break;
    case CommandResult::Error::quote:
      report(e.line, fmt::format("{} must not contain quotes: arguments are split on "
                                 "whitespace, without quoting, got {}",
                                 e.key, e.value));
      break;
  }
  return std::nullopt;
}

Keys collect_keys(const IniSection& section, std::span<const KeyRule> rules,
                  std::string_view label, const Reporter& report) {
  Keys keys;
  std::vector<std::string_view> names;
  for (auto& rule : rules) names.push_back(rule.name);
  for (auto& entry : section.entries) {
    auto rule = std::find_if(rules.begin(), rules.end(),
                             [&](const KeyRule& r) { return r.name == entry.key; });
    if (rule == rules.end()) {
      auto hint = closest_match(entry.key, names);
      report(entry.line, fmt::format("unknown key '{}' in {}{}", entry.key, label,
                                     hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint)));
      continue;
    }
    if (entry.value.empty()) {
      report(entry.line, fmt::format("missing value for '{}'", entry.key));
      continue;
    }
    auto& found = keys[rule->name];
    if (!rule->repeatable && !found.empty()) {
      report(entry.line, fmt::format("duplicate key '{}' in {}, first at line {}", entry.key,
                                     label, found.front()->line));
      continue;
    }
    found.push_back(&entry);
  }
  for (auto& rule : rules) {
    // A key given with an empty value was reported already; do not also
    // call it missing.
    bool given = std::any_of(section.entries.begin(), section.entries.end(),
                             [&](const IniEntry& e) { return e.key == rule.name; });
    if (rule.required && !given)
      report(section.line, fmt::format("missing key '{}' in {}", rule.name, label));
  }
  return keys;
}

const IniEntry* first(const Keys& keys, std::string_view name) {
  auto it = keys.find(name);
  return it == keys.end() || it->second.empty() ? nullptr : it->second.front();
}

CheckedRouter parse_router_section(const IniSection& section, std::string name,
                           std::string_view label, const Reporter& report) {
  auto keys = collect_keys(section, kRouterKeys, label, report);
  CheckedRouter out;
  RouterConfig& router = out.router;
  vrrp::RouterParams& params = router.params;
  router.line = section.line;
  params.name = std::move(name);
  Context c{keys, report, out, 3, std::nullopt};

  bool interface_known = false;
  if (const IniEntry* e = first(keys, "interface")) {
    if (valid_interface_name(e->value)) {
      router.interface = e->value;
      interface_known = true;
    } else {
      report(e->line, fmt::format("interface must be a name of 1..15 characters without "
                                  "'/', ':' or spaces, got {}",
                                  e->value));
    }
  }
  auto vrid = parse_uint_key(c, "vrid", 1, 255);
  if (vrid) params.vrid = static_cast<uint8_t>(*vrid);
  if (const IniEntry* e = first(keys, "version")) {
    if (e->value == "2" || e->value == "3") {
      c.version = static_cast<uint8_t>(e->value[0] - '0');
    } else {
      report(e->line, fmt::format("version must be 2 or 3, got {}", e->value));
      c.version.reset();
    }
  }
  if (c.version) params.version = *c.version;
  if (auto priority = parse_uint_key(c, "priority", 1, 255))
    params.priority = static_cast<uint8_t>(*priority);

  parse_advert_interval(c);
  parse_virtual_ips(c);
  parse_unicast(c);
  parse_peers(c);
  if (auto preempt = parse_bool_key(c, first(keys, "preempt"), "preempt")) params.preempt = *preempt;
  if (auto lease = parse_uint_key(c, "vip_lease", 0, 3600, "whole seconds "))
    router.vip_lease_seconds = *lease;
  if (auto repeat = parse_uint_key(c, "garp_repeat", 0, 100)) router.garp_repeat = *repeat;
  if (auto delay = parse_seconds(c, "garp_delay", 10)) router.garp_delay = *delay;
  if (auto refresh = parse_seconds(c, "garp_refresh", 86400)) router.garp_refresh = *refresh;
  validate_version_specific(c);
  parse_track(c);
  parse_hooks(c);
  parse_synchronous(c);

  out.identity_known = interface_known && vrid && c.family;
  return out;
}

std::span<const KeyRule> router_key_rules() { return kRouterKeys; }

}  // namespace pgvrrpd::config
