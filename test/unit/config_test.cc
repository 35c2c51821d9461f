// Golden config tests (see test/config/README) and the example configs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "checkers/conninfo_libpq.h"
#include "vrrpd/config/config.h"

namespace pgvrrpd {
namespace {

namespace fs = std::filesystem;

// The daemon's own validators: libpq judges conninfo.
const ConfigValidators kValidators{checkers::conninfo_error};

const fs::path kTestDir = PGVRRPD_TEST_DATA_DIR;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

std::string error_lines(const ConfigResult& result) {
  std::string out;
  for (auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

// What a .ok file holds: the verdict, then the normalised configuration.
std::string ok_text(const ConfigResult& result) {
  return "configuration OK\n" + format_config(result.config);
}

std::vector<fs::path> golden_inputs() {
  std::vector<fs::path> inputs;
  for (auto& entry : fs::directory_iterator(kTestDir / "config"))
    if (entry.path().extension() == ".ini") inputs.push_back(entry.path());
  std::sort(inputs.begin(), inputs.end());
  return inputs;
}

}  // namespace

// PGVRRPD_UPDATE_GOLDEN=1 rewrites the expectations from the parser's
// output; review the diff before committing it.
TEST_CASE("config golden files") {
  bool update = std::getenv("PGVRRPD_UPDATE_GOLDEN") != nullptr;
  int broken = 0, good = 0;
  for (const fs::path& ini : golden_inputs()) {
    // The bare name, so the expected messages do not depend on the checkout.
    std::string name = ini.filename().string();
    CAPTURE(name);
    ConfigResult result = parse_config(read_file(ini), name, kValidators);
    fs::path err = fs::path(ini).replace_extension(".err");
    fs::path ok = fs::path(ini).replace_extension(".ok");
    if (update) write_file(result.ok() ? ok : err, result.ok() ? ok_text(result) : error_lines(result));
    REQUIRE_MESSAGE(fs::exists(err) != fs::exists(ok), "need exactly one of .err and .ok");
    if (fs::exists(err)) {
      ++broken;
      CHECK_FALSE(result.ok());
      CHECK(error_lines(result) == read_file(err));
    } else {
      ++good;
      CHECK(error_lines(result) == "");
      CHECK(ok_text(result) == read_file(ok));
      // The normalised form parses to the same configuration.
      ConfigResult again = parse_config(format_config(result.config), name, kValidators);
      CHECK(error_lines(again) == "");
      CHECK(format_config(again.config) == format_config(result.config));
    }
  }
  CHECK(broken >= 25);
  CHECK(good >= 3);
  // Every expectation belongs to an input.
  for (auto& entry : fs::directory_iterator(kTestDir / "config")) {
    auto ext = entry.path().extension();
    if (ext == ".err" || ext == ".ok") {
      CAPTURE(entry.path().filename().string());
      CHECK(fs::exists(fs::path(entry.path()).replace_extension(".ini")));
    }
  }
}

TEST_CASE("config examples etc/n1.ini and etc/n2.ini") {
  ConfigResult n1 = load_config(kTestDir / ".." / "etc" / "n1.ini", kValidators);
  ConfigResult n2 = load_config(kTestDir / ".." / "etc" / "n2.ini", kValidators);
  CHECK(error_lines(n1) == "");
  CHECK(error_lines(n2) == "");
  REQUIRE(n1.config.routers.size() == 1);
  REQUIRE(n2.config.routers.size() == 1);
  const RouterConfig& a = n1.config.routers[0];
  const RouterConfig& b = n2.config.routers[0];
  CHECK(a.params.priority == 254);
  CHECK(b.params.priority == 253);
  CHECK(a.interface == "eth0");
  CHECK(b.interface == "eth0");
  CHECK(a.params.vrid == b.params.vrid);
  CHECK(a.params.version == b.params.version);
  CHECK(a.params.advert_interval == b.params.advert_interval);
  CHECK_FALSE(a.params.preempt);
  CHECK_FALSE(b.params.preempt);
  auto vip = IpPrefix::parse("198.51.100.100/24");
  CHECK(a.params.virtual_ips == std::vector<IpPrefix>{*vip});
  CHECK(b.params.virtual_ips == std::vector<IpPrefix>{*vip});
  CHECK(n1.config.node != n2.config.node);
  // Both track a postgres check and a witness; each one's peer_conninfo
  // names the other node's real address.
  for (auto* result : {&n1, &n2}) {
    const Config& config = result->config;
    CHECK(config.routers[0].track == std::vector<std::string>{"pg", "witness"});
    REQUIRE(config.checks.size() == 2);
    CHECK(config.checks[0].type == CheckType::postgres);
    CHECK(config.checks[1].type == CheckType::ping);
    CHECK(config.checks[1].target == IpAddress::parse("198.51.100.254"));
    CHECK_FALSE(config.routers[0].hooks.on_master.empty());
    CHECK_FALSE(config.routers[0].hooks.fence.empty());
    CHECK_FALSE(config.routers[0].hooks.rejoin.empty());
    CHECK(config.routers[0].hooks.auto_rejoin);
  }
  CHECK(n1.config.checks[0].peer_conninfo.find("host=198.51.100.2 ") != std::string::npos);
  CHECK(n2.config.checks[0].peer_conninfo.find("host=198.51.100.1 ") != std::string::npos);
}

TEST_CASE("config load_config reports an unreadable file once") {
  ConfigResult missing = load_config("/nonexistent/pgvrrpd.ini", kValidators);
  CHECK(error_lines(missing) ==
        "/nonexistent/pgvrrpd.ini: cannot open: No such file or directory\n");
  ConfigResult directory = load_config(kTestDir / "config", kValidators);
  REQUIRE(directory.errors.size() == 1);
  CHECK(directory.errors[0].line == 0);
  CHECK(directory.errors[0].message == "cannot read: Is a directory");
}

TEST_CASE("config load_config names the path in messages") {
  ConfigResult result = load_config(kTestDir / "config" / "12-no-router.ini", kValidators);
  REQUIRE(result.errors.size() == 1);
  CHECK(result.errors[0].file == (kTestDir / "config" / "12-no-router.ini").string());
}

}  // namespace pgvrrpd
