// The node's ini file, parsed with inih into typed structs and validated
// completely before anything starts (see pgvrrpd.ini(5)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vrrpd/ip_address.h"
#include "vrrpd/router.h"
#include "vrrpd/time.h"

namespace pgvrrpd {

struct RouterConfig {
  int line = 0;  // line of the [router NAME] header, for later messages
  std::string interface;
  vrrp::RouterParams params;  // name, vrid, version, family, priority, ...
  std::vector<IpPrefix> virtual_ips;  // with prefix length, for netlink
  std::optional<IpAddress> unicast_source;
  // Seconds the VIP stays on the interface if we stop refreshing it
  // (SIGKILL); 0 = permanent.
  uint32_t vip_lease_seconds = 3;
  uint32_t garp_repeat = 3;               // announcements on becoming master
  Duration garp_delay = std::chrono::milliseconds(100);   // between them
  Duration garp_refresh = std::chrono::seconds(60);       // 0 = off
};

struct Config {
  std::string node;  // [global] node, for logs
  std::vector<RouterConfig> routers;
};

struct ConfigError {
  std::string file;
  int line = 0;  // 0: not tied to one line
  std::string message;
  // "file:line: message"
  std::string to_string() const;
};

struct ConfigResult {
  Config config;
  std::vector<ConfigError> errors;  // empty: config is valid
  bool ok() const { return errors.empty(); }
};

// Parses `text` as if read from `file_name` (used in messages).
ConfigResult parse_config(std::string_view text, std::string_view file_name);
// Reads and parses a file; an unreadable file is one error.
ConfigResult load_config(const std::string& path);

// The effective configuration as ini text with every default spelled out,
// in a fixed order; parse_config() of it gives the same Config. For
// --check-config output and the golden tests.
std::string format_config(const Config& config);

}  // namespace pgvrrpd
