#!/bin/sh
# Builds the Debian package build/pgvrrpd_VERSION_ARCH.deb from the tree:
#   ./packaging/deb.sh            # installs what is needed and builds first
#   ./packaging/deb.sh --built    # packages build/ as it is (the tests)
# Install it with `apt-get install ./build/pgvrrpd_*.deb`. It installs the
# daemon, the shipped hooks (/usr/lib/pgvrrpd/hooks), an example config as
# a conffile (/etc/pgvrrpd/pgvrrpd.ini: edit it before enabling the unit),
# the systemd units (pgvrrpd.service, run as postgres, and the
# pgvrrpd-start-postgresql@.path its hooks start PostgreSQL through; not
# enabled or started), the man pages, and, among the
# examples in /usr/share/doc/pgvrrpd, PostgreSQL's --pre-start drop-in.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" != --built ]; then
  "$top/packaging/setup.sh"
fi
build=$top/build
version=$(sed -n 's/^project(pgvrrpd VERSION \([0-9.]*\).*/\1/p' "$top/CMakeLists.txt")
arch=$(dpkg --print-architecture)
stage=$build/deb/pgvrrpd_${version}_$arch
rm -rf "$build/deb"
mkdir -p "$stage/DEBIAN"

for program in pgvrrpd pgvrrpctl; do
  install -D -m 0755 "$build/$program" "$stage/usr/sbin/$program"
  # What dh_strip does: the debug info stays in build/.
  strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$stage/usr/sbin/$program"
done
for hook in promote fence rejoin switchover request-start; do
  install -D -m 0755 "$top/notify/hooks/$hook" "$stage/usr/lib/pgvrrpd/hooks/$hook"
done
install -D -m 0644 "$top/notify/hooks/as_owner.sh" "$stage/usr/lib/pgvrrpd/hooks/as_owner.sh"
install -D -m 0644 "$top/etc/n1.ini" "$stage/etc/pgvrrpd/pgvrrpd.ini"
install -D -m 0644 "$top/packaging/pgvrrpd.service" "$stage/lib/systemd/system/pgvrrpd.service"
install -D -m 0644 "$top/packaging/pgvrrpd-start-postgresql@.path" \
  "$stage/lib/systemd/system/pgvrrpd-start-postgresql@.path"
docs=$stage/usr/share/doc/pgvrrpd
for example in etc/n1.ini etc/n2.ini packaging/postgresql-pgvrrpd.conf; do
  install -D -m 0644 "$top/$example" "$docs/examples/$(basename "$example")"
done
install -D -m 0644 "$top/README.md" "$docs/README.md"
# debian/copyright's machine-readable form, naming the licence.
{
  echo "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/"
  echo "Upstream-Name: pgvrrpd"
  echo
  echo "Files: *"
  echo "Copyright: the pgvrrpd developers"
  echo "License: see below"
  sed 's/^$/./; s/^/ /' "$top/LICENSE"
} >"$docs/copyright"
chmod 0644 "$docs/copyright"
{
  echo "pgvrrpd ($version) unstable; urgency=medium"
  echo
  echo "  * Built from the source tree by packaging/deb.sh."
  echo
  echo " -- pgvrrpd developers <pgvrrpd@example.org>  $(date -R -d @"${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)}")"
} | gzip -9n >"$docs/changelog.gz"
chmod 0644 "$docs/changelog.gz"
for page in pgvrrpd.8 pgvrrpd.ini.5 pgvrrpctl.8; do
  section=${page##*.}
  mkdir -p "$stage/usr/share/man/man$section"
  gzip -9n <"$top/packaging/man/$page" >"$stage/usr/share/man/man$section/$page.gz"
  chmod 0644 "$stage/usr/share/man/man$section/$page.gz"
done

# Shared-library dependencies, as dh_shlibdeps finds them.
shlibs=$(cd "$build/deb" && mkdir -p debian && printf 'Source: pgvrrpd\n\nPackage: pgvrrpd\nArchitecture: any\n' \
  >debian/control && dpkg-shlibdeps -O -e"$stage/usr/sbin/pgvrrpd" -e"$stage/usr/sbin/pgvrrpctl" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
rm -rf "$build/deb/debian"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<CONTROL
Package: pgvrrpd
Version: $version
Architecture: $arch
Maintainer: pgvrrpd developers <pgvrrpd@example.org>
Installed-Size: $size
Depends: $shlibs, util-linux (>= 2.33), postgresql-common
Recommends: postgresql-15
Section: net
Priority: optional
Description: VRRP virtual IP for a two-node PostgreSQL pair
 pgvrrpd keeps a primary/standby PostgreSQL pair reachable at one virtual
 IP. It speaks VRRP (versions 2 and 3, interoperating with keepalived) with
 its peer, moves the address with netlink, watches PostgreSQL with libpq
 and runs promote, fence, rejoin and switchover hooks, so that there is
 never more than one writable primary.
CONTROL
echo /etc/pgvrrpd/pgvrrpd.ini >"$stage/DEBIAN/conffiles"
(cd "$stage" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\n' |
  LC_ALL=C sort | xargs md5sum) >"$stage/DEBIAN/md5sums"
# The unit is installed, not enabled: the example config must be edited
# first. systemd only needs to see the new or removed unit file.
for script in postinst postrm; do
  cat >"$stage/DEBIAN/$script" <<SCRIPT
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then
  systemctl --system daemon-reload >/dev/null || true
fi
SCRIPT
  chmod 0755 "$stage/DEBIAN/$script"
done
dpkg-deb --root-owner-group -Zxz --build "$stage" "$build/pgvrrpd_${version}_$arch.deb" >/dev/null
echo "$build/pgvrrpd_${version}_$arch.deb"
