// The manual against the code: every key the parser accepts is described
// in pgvrrpd.ini(5), under its own section, as a ".TP" item of its own.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "vrrpd/config/config.h"

namespace pgvrrpd {
namespace {

std::string read_page(const std::string& name) {
  std::ifstream in(std::string(PGVRRPD_TEST_DATA_DIR) + "/../packaging/man/" + name);
  REQUIRE(in);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The text of ".SH <header>" up to the next ".SH".
std::string section_of(const std::string& page, const std::string& header) {
  auto start = page.find("\n.SH " + header + "\n");
  if (start == std::string::npos) return "";
  auto end = page.find("\n.SH ", start + 1);
  return page.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

TEST_CASE("man pages: pgvrrpd.ini(5) describes every key the parser accepts") {
  std::string page = read_page("pgvrrpd.ini.5");
  for (auto [section, header] : {std::pair{"global", "[global]"},
                                 std::pair{"router", "[router NAME]"},
                                 std::pair{"check", "[check NAME]"}}) {
    std::string text = section_of(page, header);
    REQUIRE_MESSAGE(!text.empty(), "no .SH " << header);
    auto keys = accepted_keys(section);
    CHECK(!keys.empty());
    for (std::string_view key : keys) {
      CAPTURE(section);
      CAPTURE(key);
      bool described = text.find("\n.TP\n.B " + std::string(key) + "\n") != std::string::npos;
      CHECK(described);
    }
  }
  CHECK(accepted_keys("nonsense").empty());
}

}  // namespace
}  // namespace pgvrrpd
