#include "notify/line_buffer.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace pgvrrpd::notify {
namespace {

struct Collect {
  std::vector<std::string> lines;
  LineBuffer::LineCallback callback() {
    return [this](std::string_view line) { lines.emplace_back(line); };
  }
};

TEST_CASE("hook line buffer: lines split across reads, CRLF, and a partial last line") {
  LineBuffer buffer;
  Collect c;
  buffer.append("one\ntw", c.callback());
  CHECK(c.lines == std::vector<std::string>{"one"});
  buffer.append("o\r\n\nthree", c.callback());
  CHECK(c.lines == std::vector<std::string>{"one", "two", ""});
  buffer.flush(c.callback());
  CHECK(c.lines == std::vector<std::string>{"one", "two", "", "three"});
  buffer.flush(c.callback());  // nothing left
  CHECK(c.lines.size() == 4);
}

TEST_CASE("hook line buffer: output without newlines is cut at kMaxLine") {
  LineBuffer buffer;
  Collect c;
  buffer.append(std::string(LineBuffer::kMaxLine * 2 + 10, 'x'), c.callback());
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0].size() == LineBuffer::kMaxLine);
  buffer.flush(c.callback());
  REQUIRE(c.lines.size() == 3);
  CHECK(c.lines[2].size() == 10);
}

}  // namespace
}  // namespace pgvrrpd::notify
