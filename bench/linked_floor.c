/* The memory floor of linking a library: a process that only loads its
 * libraries, then sleeps until killed. Built twice: with libc alone, and
 * with libpq, the client library pgvrrpd's postgres check is built on
 * (DESIGN.md). footprint.py measures their VmRSS next to the daemons', to
 * show how much of pgvrrpd's memory its libraries take before it runs one
 * line of its own. */
#include <unistd.h>
#ifdef WITH_LIBPQ
#include <libpq-fe.h>
#endif

int main(void) {
#ifdef WITH_LIBPQ
  /* One call, so that the link keeps libpq and the loader maps it. */
  if (PQlibVersion() <= 0) return 1;
#endif
  pause();
  return 0;
}
