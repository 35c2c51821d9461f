#include "vrrpd/basics/json_writer.h"

#include <doctest/doctest.h>

#include <limits>

namespace pgvrrpd {
namespace {

TEST_CASE("json writer: nesting, commas, every kind of value") {
  JsonWriter w;
  w.begin_object()
      .key("version").value(1)
      .key("routers").begin_array()
      .begin_object().key("name").value("pg").key("master").value(true).end_object()
      .begin_object().key("name").value("b").key("lag").null().end_object()
      .end_array()
      .key("empty").begin_object().end_object()
      .key("list").begin_array().value(uint64_t{18446744073709551615u}).value(-3).end_array()
      .key("ratio").value(0.25)
      .key("nan").value(std::numeric_limits<double>::quiet_NaN())
      .end_object();
  CHECK(w.text() ==
        R"({"version":1,"routers":[{"name":"pg","master":true},{"name":"b","lag":null}],)"
        R"("empty":{},"list":[18446744073709551615,-3],"ratio":0.25,"nan":null})");
}

TEST_CASE("json writer: strings are escaped, control bytes included") {
  CHECK(json_quote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(json_quote("line\nnext\ttab") == R"("line\nnext\ttab")");
  CHECK(json_quote(std::string_view("\x01\x7f", 2)) == R"("\u0001\u007f")");
  CHECK(json_quote("café") == "\"café\"");
}

}  // namespace
}  // namespace pgvrrpd
