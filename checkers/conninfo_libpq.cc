#include "checkers/conninfo_libpq.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>

#include <string_view>

#include <fmt/format.h>

namespace pgvrrpd::checkers {
namespace {

bool numeric_address(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

// A host that libpq would look up by name, "" when there is none. The
// checks run on the daemon's one thread, and PQconnectStart resolves names
// synchronously: a slow DNS server would stall adverts and failover.
std::string host_name_in(const PQconninfoOption* options) {
  std::string host, hostaddr;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::string_view(o->keyword) == "host") host = o->val;
    if (std::string_view(o->keyword) == "hostaddr") hostaddr = o->val;
  }
  if (!hostaddr.empty()) return "";  // libpq connects there, the name is for TLS
  size_t start = 0;
  while (start <= host.size()) {
    size_t comma = host.find(',', start);
    std::string one = host.substr(start, comma == std::string::npos ? std::string::npos
                                                                   : comma - start);
    if (!one.empty() && one.front() != '/' && one.front() != '@' && !numeric_address(one))
      return one;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return "";
}

}  // namespace

std::string conninfo_error(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options != nullptr) {
    std::string name = host_name_in(options);
    PQconninfoFree(options);
    if (!name.empty())
      return fmt::format("host {} is a name, which libpq would resolve on the daemon's only "
                         "thread (a slow DNS answer stalls failover): give an IP address or a "
                         "socket directory, or hostaddr= beside the name",
                         name);
    return "";
  }
  std::string message = error != nullptr ? error : "out of memory";
  PQfreemem(error);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
    message.pop_back();
  return message;
}

ConninfoServer conninfo_server(const std::string& conninfo) {
  ConninfoServer server{"", "5432"};
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), nullptr);
  if (options == nullptr) return server;
  std::string host, hostaddr, port;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    std::string_view keyword(o->keyword);
    if (keyword == "host") host = o->val;
    if (keyword == "hostaddr") hostaddr = o->val;
    if (keyword == "port") port = o->val;
  }
  PQconninfoFree(options);
  auto first = [](const std::string& list) { return list.substr(0, list.find(',')); };
  std::string address = hostaddr.empty() ? first(host) : first(hostaddr);
  if (numeric_address(address)) server.address = address;
  if (!first(port).empty()) server.port = first(port);
  return server;
}

std::vector<std::string> unset_libpq_environment() {
  std::vector<std::string> names;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    // libpq's names all begin with "PG" (and new versions add more); ours
    // (PGVRRPD_*) are left alone.
    if (!text.starts_with("PG") || text.starts_with("PGVRRPD")) continue;
    names.emplace_back(text.substr(0, text.find('=')));
  }
  // Collected first: unsetenv() rearranges environ.
  for (const auto& name : names) unsetenv(name.c_str());
  return names;
}

}  // namespace pgvrrpd::checkers
