// Value parsers and parse_config() details that goldens show poorly:
// exact numbers, defaults, bytes, line endings.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <string>

#include "checkers/conninfo_libpq.h"
#include "vrrpd/config/config.h"
#include "vrrpd/config/config_values.h"

namespace pgvrrpd {
namespace {

using namespace config;

// The daemon's own validators: libpq judges conninfo.
const ConfigValidators kValidators{checkers::conninfo_error};

std::string errors_of(const ConfigResult& result) {
  std::string out;
  for (auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

constexpr std::string_view kMinimal =
    "[router pg]\ninterface = eth0\nvrid = 51\nvirtual_ip = 198.51.100.100/24\n"
    "peer = 198.51.100.12\n";

ConfigResult parse_with(std::string_view extra) {
  return parse_config(std::string(kMinimal) + std::string(extra), "t.ini", kValidators);
}

}  // namespace

TEST_CASE("config parse_fixed is exact fixed point") {
  CHECK(parse_fixed("1", 2).units == 100);
  CHECK(parse_fixed("0.01", 2).units == 1);
  CHECK(parse_fixed("0.1", 2).units == 10);
  CHECK(parse_fixed("40.95", 2).units == 4095);
  CHECK(parse_fixed("0.010", 2).units == 1);  // zeros past the resolution
  CHECK(parse_fixed("0.29", 2).units == 29);  // 0.29 * 100 is 28.999... as a double
  CHECK(parse_fixed("0.015", 2).too_fine);
  CHECK_FALSE(parse_fixed("0.015", 2).units);
  CHECK(parse_fixed("0.0001", 3).too_fine);
  CHECK(parse_fixed("0.1", 3).units == 100);
  for (const char* bad : {"", ".5", "1.", "-1", "+1", "1e2", "1,5", " 1", "0x10",
                          "1.2.3", "1234567890"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_fixed(bad, 2).units);
    CHECK_FALSE(parse_fixed(bad, 2).too_fine);
  }
}

TEST_CASE("config parse_uint accepts digits only, within range") {
  CHECK(parse_uint("0", 0, 10) == 0u);
  CHECK(parse_uint("255", 1, 255) == 255u);
  CHECK(parse_uint("007", 1, 255) == 7u);
  CHECK_FALSE(parse_uint("256", 1, 255));
  CHECK_FALSE(parse_uint("0", 1, 255));
  CHECK_FALSE(parse_uint("99999999999", 0, 4294967295u));
  for (const char* bad : {"", "-1", "+1", "1 ", "1.0", "ten"}) CHECK_FALSE(parse_uint(bad, 0, 100));
}

TEST_CASE("config parse_bool") {
  for (const char* yes : {"true", "yes", "on", "1", "TRUE", "Yes", "On"}) CHECK(parse_bool(yes) == true);
  for (const char* no : {"false", "no", "off", "0", "False", "NO", "oFF"}) CHECK(parse_bool(no) == false);
  for (const char* bad : {"", "y", "n", "2", "enabled", "truee"}) CHECK_FALSE(parse_bool(bad));
}

TEST_CASE("config parse_prefix") {
  auto host4 = parse_prefix("198.51.100.1");
  CHECK(host4.error == PrefixResult::Error::none);
  CHECK(host4.prefix.length == 32);
  auto host6 = parse_prefix("2001:db8::1");
  CHECK(host6.error == PrefixResult::Error::none);
  CHECK(host6.prefix.length == 128);
  auto net = parse_prefix("198.51.100.1/24");
  CHECK(net.prefix.length == 24);
  CHECK(net.prefix.address.to_string() == "198.51.100.1");  // host bits kept
  CHECK(parse_prefix("2001:db8::1/64").prefix.length == 64);
  CHECK(parse_prefix("198.51.100.1/33").error == PrefixResult::Error::bad_length);
  CHECK(parse_prefix("198.51.100.1/0").error == PrefixResult::Error::bad_length);
  CHECK(parse_prefix("198.51.100.1/").error == PrefixResult::Error::bad_length);
  CHECK(parse_prefix("198.51.100.1/-1").error == PrefixResult::Error::bad_length);
  CHECK(parse_prefix("2001:db8::1/129").error == PrefixResult::Error::bad_length);
  CHECK(parse_prefix("198.51.100/24").error == PrefixResult::Error::bad_address);
  CHECK(parse_prefix("/24").error == PrefixResult::Error::bad_address);
}

TEST_CASE("config names and suggestions") {
  CHECK(valid_router_name("pg"));
  CHECK(valid_router_name("A-z_0.9"));
  CHECK(valid_router_name(std::string(32, 'x')));
  CHECK_FALSE(valid_router_name(std::string(33, 'x')));
  CHECK_FALSE(valid_router_name(""));
  CHECK_FALSE(valid_router_name("a b"));
  CHECK_FALSE(valid_router_name("a/b"));
  CHECK(valid_interface_name("eth0"));
  CHECK(valid_interface_name("enp0s31f6.100"));
  CHECK(valid_interface_name(std::string(15, 'e')));
  CHECK_FALSE(valid_interface_name(std::string(16, 'e')));
  for (const char* bad : {"", ".", "..", "a/b", "a:b", "a b"}) CHECK_FALSE(valid_interface_name(bad));
  std::vector<std::string_view> keys = {"priority", "preempt", "vrid"};
  CHECK(closest_match("priorty", keys) == "priority");
  CHECK(closest_match("prempt", keys) == "preempt");
  CHECK(closest_match("vrd", keys) == "vrid");
  CHECK(closest_match("xy", keys).empty());
  CHECK(closest_match("interface", keys).empty());
}

TEST_CASE("config defaults") {
  ConfigResult result = parse_config(kMinimal, "t.ini", kValidators);
  REQUIRE(errors_of(result) == "");
  CHECK(result.config.node.empty());
  REQUIRE(result.config.routers.size() == 1);
  const RouterConfig& r = result.config.routers[0];
  const vrrp::RouterParams& p = r.params;
  CHECK(r.line == 1);
  CHECK(r.interface == "eth0");
  CHECK(p.name == "pg");
  CHECK(p.vrid == 51);
  CHECK(p.version == 3);
  CHECK(p.family == Family::ipv4);
  CHECK(p.priority == 100);
  CHECK(p.advert_interval == Centiseconds(100));
  CHECK_FALSE(p.preempt);
  CHECK(p.virtual_ips == std::vector<IpPrefix>{*IpPrefix::parse("198.51.100.100/24")});
  CHECK(p.unicast_peers.empty());
  CHECK_FALSE(r.unicast_source);
  CHECK(p.checksum_mode == vrrp::ChecksumMode::pseudo_header);
  CHECK(p.auth_type == 0);
  CHECK(r.vip_lease_seconds == 3);
  CHECK(r.garp_repeat == 3);
  CHECK(r.garp_delay == std::chrono::milliseconds(100));
  CHECK(r.garp_refresh == std::chrono::seconds(60));
}

TEST_CASE("config values reach the structs") {
  ConfigResult result = parse_with(
      "advert_interval = 0.29\npreempt = yes\nvip_lease = 0\ngarp_delay = 0.005\n"
      "garp_refresh = 0\nv3_checksum_pseudo_header = no\n"
      "unicast_peer = 198.51.100.22\nunicast_source = 198.51.100.21\n");
  REQUIRE(errors_of(result) == "");
  const RouterConfig& r = result.config.routers[0];
  CHECK(r.params.advert_interval == Centiseconds(29));
  CHECK(r.params.preempt);
  CHECK(r.vip_lease_seconds == 0);
  CHECK(r.garp_delay == std::chrono::milliseconds(5));
  CHECK(r.garp_refresh == Duration::zero());
  CHECK(r.params.checksum_mode == vrrp::ChecksumMode::plain);
  CHECK(r.params.unicast_peers == std::vector<IpAddress>{*IpAddress::parse("198.51.100.22")});
  CHECK(r.unicast_source == IpAddress::parse("198.51.100.21"));
}

TEST_CASE("config v2 auth_pass is zero padded") {
  ConfigResult result = parse_with("version = 2\nadvert_interval = 3\nauth_pass = abc\n");
  REQUIRE(errors_of(result) == "");
  const auto& p = result.config.routers[0].params;
  CHECK(p.version == 2);
  CHECK(p.advert_interval == Centiseconds(300));
  CHECK(p.auth_type == 1);
  CHECK(p.auth_data == std::array<uint8_t, 8>{'a', 'b', 'c', 0, 0, 0, 0, 0});
}

TEST_CASE("config IPv6 router takes its family from the VIPs") {
  ConfigResult result = parse_config(
      "[router v6]\ninterface = eth0\nvrid = 1\nvirtual_ip = 2001:db8::1/64\npeer = fe80::2\n",
      "t.ini", kValidators);
  REQUIRE(errors_of(result) == "");
  CHECK(result.config.routers[0].params.family == Family::ipv6);
}

TEST_CASE("config line endings, BOM and comments") {
  std::string crlf = "\xEF\xBB\xBF; comment\r\n[router pg]\r\ninterface = eth0\r\n"
                     "vrid = 51 ; inline\r\n# hash comment\r\n"
                     "virtual_ip = 198.51.100.100/24\r\npeer = 198.51.100.12\r\n";
  ConfigResult result = parse_config(crlf, "t.ini", kValidators);
  CHECK(errors_of(result) == "");
  CHECK(result.config.routers.at(0).params.vrid == 51);
  // No trailing newline on the last line.
  CHECK(parse_config(kMinimal.substr(0, kMinimal.size() - 1), "t.ini", kValidators).ok());
  // ';' without whitespace before it is part of the value.
  CHECK(errors_of(parse_with("priority = 150;x\n")) ==
        "t.ini:6: priority must be 1..255, got 150;x\n");
}

TEST_CASE("config syntax errors the goldens cannot hold") {
  std::string nul = std::string(kMinimal) + "priority = 1" + std::string(1, '\0') + "0\n";
  CHECK(errors_of(parse_config(nul, "t.ini", kValidators)) == "t.ini:6: syntax error: NUL byte in line\n");
  // Longer than inih's line buffer: one error, not a second one for the tail.
  ConfigResult long_line = parse_with("node = " + std::string(300, 'x') + "\n");
  REQUIRE(long_line.errors.size() == 1);
  CHECK(long_line.errors[0].line == 6);
  CHECK(long_line.errors[0].message.starts_with("line too long"));
  // A long comment is fine.
  CHECK(parse_with("; " + std::string(300, 'x') + "\n").ok());
}

TEST_CASE("config at most 255 virtual_ip per router") {
  std::string text = "[router pg]\ninterface = eth0\nvrid = 51\naccept_any_source = true\n";
  for (int i = 0; i < 256; ++i)
    text += "virtual_ip = 10.0." + std::to_string(i / 200) + "." + std::to_string(i % 200 + 1) + "\n";
  ConfigResult result = parse_config(text, "t.ini", kValidators);
  CHECK(errors_of(result) == "t.ini:260: too many virtual_ip: at most 255 per router\n");
}

TEST_CASE("config error formatting") {
  CHECK(ConfigError{"a.ini", 12, "priority must be 1..255, got 300"}.to_string() ==
        "a.ini:12: priority must be 1..255, got 300");
  CHECK(ConfigError{"a.ini", 0, "no [router NAME] section: nothing to run"}.to_string() ==
        "a.ini: no [router NAME] section: nothing to run");
}

}  // namespace pgvrrpd

namespace pgvrrpd {

TEST_CASE("config parse_int takes a sign and a range") {
  using config::parse_int;
  CHECK(parse_int("-254", -254, 254) == -254);
  CHECK(parse_int("+5", -254, 254) == 5);
  CHECK(parse_int("0", -254, 254) == 0);
  CHECK_FALSE(parse_int("255", -254, 254));
  CHECK_FALSE(parse_int("-", -254, 254));
  CHECK_FALSE(parse_int("1.5", -254, 254));
  CHECK_FALSE(parse_int("99999999999999999999", -254, 254));
  CHECK_FALSE(parse_int(" 5", -254, 254));
}

TEST_CASE("config parse_bytes reads PostgreSQL memory units, 1024-based") {
  using config::parse_bytes;
  CHECK(parse_bytes("0") == 0u);
  CHECK(parse_bytes("1000") == 1000u);
  CHECK(parse_bytes("10B") == 10u);
  CHECK(parse_bytes("1kB") == 1024u);
  CHECK(parse_bytes("16MB") == 16u * 1024 * 1024);
  CHECK(parse_bytes("16 MB") == 16u * 1024 * 1024);
  CHECK(parse_bytes("2GB") == uint64_t{2} << 30);
  CHECK(parse_bytes("1TB") == uint64_t{1} << 40);
  CHECK(parse_bytes("4194304TB") == uint64_t{1} << 62);
  CHECK_FALSE(parse_bytes("4194305TB"));
  // Case matters, as in postgresql.conf.
  CHECK_FALSE(parse_bytes("16mb"));
  CHECK_FALSE(parse_bytes("1KB"));
  CHECK_FALSE(parse_bytes("MB"));
  CHECK_FALSE(parse_bytes("-1"));
  CHECK_FALSE(parse_bytes("1.5GB"));
  CHECK_FALSE(parse_bytes("1 MB x"));
}

TEST_CASE("config parse_command splits on whitespace, absolute path first") {
  using config::CommandResult;
  using config::parse_command;
  auto c = parse_command("/usr/bin/pg_isready  -q\t-t 2");
  CHECK(c.error == CommandResult::Error::none);
  CHECK(c.argv == std::vector<std::string>{"/usr/bin/pg_isready", "-q", "-t", "2"});
  CHECK(parse_command("/bin/true").argv == std::vector<std::string>{"/bin/true"});
  CHECK(parse_command("bin/true").error == CommandResult::Error::not_absolute);
  CHECK(parse_command("").error == CommandResult::Error::not_absolute);
  CHECK(parse_command("/bin/sh -c 'x y'").error == CommandResult::Error::quote);
  CHECK(parse_command("/bin/echo \"x\"").error == CommandResult::Error::quote);
}

TEST_CASE("config names for hook_env and hook_user") {
  CHECK(config::valid_env_name("PGDATA"));
  CHECK(config::valid_env_name("_x1"));
  CHECK_FALSE(config::valid_env_name("1X"));
  CHECK_FALSE(config::valid_env_name("A-B"));
  CHECK_FALSE(config::valid_env_name(""));
  CHECK(config::valid_user_name("postgres"));
  CHECK(config::valid_user_name("_pg-1"));
  CHECK(config::valid_user_name("machine$"));
  CHECK_FALSE(config::valid_user_name("Root"));
  CHECK_FALSE(config::valid_user_name("1user"));
  CHECK_FALSE(config::valid_user_name("$"));
  CHECK_FALSE(config::valid_user_name(std::string(33, 'a')));
}

TEST_CASE("config check defaults depend on the type") {
  auto result = parse_with(
      "track = pg, gw, script\n"
      "[check pg]\ntype = postgres\nconninfo = dbname=postgres\n"
      "[check gw]\ntype = ping\ntarget = ::1\n"
      "[check script]\ntype = exec\ncommand = /bin/true\n");
  REQUIRE(errors_of(result) == "");
  REQUIRE(result.config.checks.size() == 3);
  const auto& pg = result.config.checks[0];
  const auto& gw = result.config.checks[1];
  const auto& script = result.config.checks[2];
  CHECK(pg.type == CheckType::postgres);
  CHECK(pg.interval == std::chrono::seconds(1));
  CHECK(pg.timeout == std::chrono::seconds(3));
  CHECK(pg.rise == 1);
  CHECK(pg.fall == 1);
  CHECK(pg.effect == CheckEffect::fault);
  CHECK_FALSE(pg.max_lag_bytes);
  CHECK(gw.timeout == std::chrono::seconds(1));
  CHECK(gw.fall == 3);
  CHECK(gw.target == IpAddress::parse("::1"));
  CHECK(script.timeout == std::chrono::seconds(5));
  CHECK(script.fall == 1);
  CHECK(script.command.line == 15);
  CHECK(result.config.routers[0].track == std::vector<std::string>{"pg", "gw", "script"});
  CHECK(result.config.routers[0].hooks.timeout == std::chrono::seconds(60));
  CHECK(result.config.routers[0].hooks.user.empty());  // pgvrrpd's own user
}

TEST_CASE("config validate_commands reports the seam's complaints as file:line") {
  auto result = parse_with(
      "on_master = /usr/lib/pgvrrpd/hooks/promote\n"
      "on_fault = /tmp/fence\n"
      "hook_env = PG_STOP_COMMAND=/tmp/stop fast\n"
      "hook_env = PGDATA=/tmp/not-a-command\n"
      "[check script]\ntype = exec\ncommand = /tmp/check --x\n");
  REQUIRE(errors_of(result) == "");
  std::vector<std::string> seen;
  auto errors = validate_commands(result.config, "t.ini", [&](const CommandConfig& c) {
    seen.push_back(c.argv[0]);
    return c.argv[0].starts_with("/tmp/") ? std::string("is in /tmp") : std::string();
  });
  // The programs the hooks run from hook_env are checked like the hooks.
  CHECK(seen.size() == 4);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].to_string() == "t.ini:7: on_fault: is in /tmp");
  CHECK(errors[1].to_string() == "t.ini:8: hook_env PG_STOP_COMMAND: is in /tmp");
  CHECK(errors[2].to_string() == "t.ini:12: command: is in /tmp");
}

TEST_CASE("conninfo: a host name is refused unless hostaddr is given (no DNS on the loop)") {
  CHECK(checkers::conninfo_error("host=198.51.100.12 port=5432") == "");
  CHECK(checkers::conninfo_error("host=2001:db8:100::12,198.51.100.12") == "");
  CHECK(checkers::conninfo_error("host=/run/postgresql dbname=postgres") == "");
  CHECK(checkers::conninfo_error("dbname=postgres") == "");
  CHECK(checkers::conninfo_error("host=db.example hostaddr=198.51.100.12") == "");
  CHECK(checkers::conninfo_error("postgresql://198.51.100.12:5432/postgres") == "");
  std::string want =
      "host db.example is a name, which libpq would resolve on the daemon's only thread (a "
      "slow DNS answer stalls failover): give an IP address or a socket directory, or "
      "hostaddr= beside the name";
  CHECK(checkers::conninfo_error("host=db.example") == want);
  CHECK(checkers::conninfo_error("host=198.51.100.12,db.example") == want);
  CHECK(checkers::conninfo_error("postgresql://db.example/postgres") == want);
  auto result = parse_with(
      "track = pg\n[check pg]\ntype = postgres\nconninfo = host=localhost\n");
  CAPTURE(errors_of(result));
  CHECK(errors_of(result).find(": conninfo is not valid: host localhost is a name") !=
        std::string::npos);
}

TEST_CASE("libpq environment: every PG* variable but PGVRRPD_* is unset and named") {
  // libpq fills what a conninfo leaves out from these: PGHOST a name (DNS on
  // the loop), PGSERVICE a service file with another server.
  setenv("PGHOST", "db.example", 1);
  setenv("PGSERVICE", "elsewhere", 1);
  setenv("PGPASSWORD", "secret", 1);
  setenv("XPGHOST", "kept", 1);
  setenv("PGVRRPD_TEST", "ours", 1);
  auto names = checkers::unset_libpq_environment();
  std::sort(names.begin(), names.end());
  CHECK(std::find(names.begin(), names.end(), "PGHOST") != names.end());
  CHECK(std::find(names.begin(), names.end(), "PGSERVICE") != names.end());
  CHECK(std::find(names.begin(), names.end(), "PGPASSWORD") != names.end());
  for (const auto& name : names) CHECK(name.starts_with("PG"));
  CHECK(getenv("PGHOST") == nullptr);
  CHECK(getenv("PGSERVICE") == nullptr);
  CHECK(getenv("PGPASSWORD") == nullptr);
  CHECK(std::string(getenv("XPGHOST")) == "kept");
  CHECK(std::string(getenv("PGVRRPD_TEST")) == "ours");
  unsetenv("XPGHOST");
  unsetenv("PGVRRPD_TEST");
  CHECK(checkers::unset_libpq_environment().empty());
}

TEST_CASE("config asks ConfigValidators about every conninfo, in file order") {
  std::string text = std::string(kMinimal) +
                     "track = pg\n"
                     "[check pg]\ntype = postgres\n"
                     "conninfo = host=/run/postgresql\n"
                     "peer_conninfo = host=198.51.100.12 sslmode=bogus\n";
  std::vector<std::string> asked;
  ConfigValidators judge{[&](const std::string& conninfo) {
    asked.push_back(conninfo);
    return conninfo.find("bogus") != std::string::npos ? std::string("bad sslmode")
                                                       : std::string();
  }};
  auto result = parse_config(text, "t.ini", judge);
  CHECK(asked == std::vector<std::string>{"host=/run/postgresql",
                                          "host=198.51.100.12 sslmode=bogus"});
  CHECK(errors_of(result) == "t.ini:10: peer_conninfo is not valid: bad sslmode\n");

  // Unset, the parser itself stays pure and takes the strings as written.
  auto unchecked = parse_config(text, "t.ini", ConfigValidators{});
  CHECK(errors_of(unchecked) == "");
  REQUIRE(unchecked.config.checks.size() == 1);
  CHECK(unchecked.config.checks[0].peer_conninfo == "host=198.51.100.12 sslmode=bogus");
}

}  // namespace pgvrrpd
