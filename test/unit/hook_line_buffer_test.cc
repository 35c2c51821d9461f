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

TEST_CASE("hook line buffer: a long line is cut at kMaxLine with its newline in the same read") {
  // Found by fuzz_line_buffer: only output without a newline was bounded, so
  // one read of a 10 kB line (or a partial line completed by one) came out whole.
  LineBuffer buffer;
  Collect c;
  buffer.append(std::string(LineBuffer::kMaxLine + 5, 'x') + "\nnext\n", c.callback());
  CHECK(c.lines == std::vector<std::string>{std::string(LineBuffer::kMaxLine, 'x'), "xxxxx", "next"});
  c.lines.clear();
  buffer.append("ab", c.callback());
  buffer.append(std::string(LineBuffer::kMaxLine, 'y') + "\n", c.callback());
  REQUIRE(c.lines.size() == 2);
  CHECK(c.lines[0] == "ab" + std::string(LineBuffer::kMaxLine - 2, 'y'));
  CHECK(c.lines[1] == "yy");
}

}  // namespace
}  // namespace pgvrrpd::notify
