// A deliberately bad file of a pure layer, for the ctest entry
// "layering: a pure layer that includes an edge header is rejected".
// Never compiled: only cmake/check_layer_includes.cmake reads it.
#include "vrrpd/core/router.h"

#include <netlink/route/addr.h>
#include <libpq-fe.h>
#include <sys/epoll.h>
#include <vector>

#include "vrrpd/edge/netlink_linux.h"
#include "checkers/postgres_checker.h"
