#include "vrrpd/basics/result.h"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

namespace pgvrrpd {
namespace {

TEST_CASE("Status: default is ok, errors carry message and errno") {
  Status ok;
  CHECK(ok.is_ok());
  CHECK(ok.message().empty());
  CHECK(ok.error_number() == 0);

  Status bad = Status::error("bad thing", EINVAL);
  CHECK_FALSE(bad.is_ok());
  CHECK(bad.message() == "bad thing");
  CHECK(bad.error_number() == EINVAL);
}

TEST_CASE("Status::from_errno formats context and strerror") {
  errno = ENODEV;
  Status s = Status::from_errno("bind eth9");
  CHECK(s.error_number() == ENODEV);
  CHECK(s.message().rfind("bind eth9: ", 0) == 0);
  CHECK(s.message().size() > std::string("bind eth9: ").size());
}

TEST_CASE("Status::with_context prefixes errors and leaves ok alone") {
  CHECK(Status::success().with_context("x").is_ok());
  Status s = Status::error("inner", EIO).with_context("outer");
  CHECK(s.message() == "outer: inner");
  CHECK(s.error_number() == EIO);
}

TEST_CASE("Result holds a value or an error") {
  Result<int> good = 7;
  REQUIRE(good.is_ok());
  CHECK(*good == 7);

  Result<int> bad = Status::error("nope");
  CHECK_FALSE(bad.is_ok());
  CHECK(bad.status().message() == "nope");

  // An ok Status cannot stand in for a value.
  Result<int> confused = Status::success();
  CHECK_FALSE(confused.is_ok());
  CHECK_FALSE(confused.status().is_ok());
}

}  // namespace
}  // namespace pgvrrpd
