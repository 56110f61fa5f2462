#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Builds the RPMs of packaging/rpm/pam_wif.spec with rpmbuild -bb from a
# tarball of this tree, in OUTDIR (its _topdir), and checks what they hold.
#
#   tests/packaging/build_rpm.sh OUTDIR
#
# Exit 77 (skipped) without rpmbuild. On a Debian host (Debian's rpm
# package), BuildRequires name Fedora packages that dpkg does not know, so
# they are not checked (--nodeps), and the Fedora macros that Debian's rpm
# lacks (%cmake, %cmake_build, %cmake_install, %_tmpfilesdir, %_unitdir,
# %tmpfiles_create) are defined here much as Fedora defines them. On
# Fedora and its relatives the spec builds as it is: rpmbuild -ba.
set -eu

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
if ! command -v rpmbuild >/dev/null; then
  echo "build_rpm: rpmbuild is not installed: skipped"
  exit 77
fi
root=$(cd "$(dirname "$0")/../.." && pwd)
spec=$root/packaging/rpm/pam_wif.spec
rm -rf "$1"
mkdir -p "$1"
top=$(cd "$1" && pwd)
name=$(sed -n 's/^Name:[[:space:]]*//p' "$spec")
version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
mkdir -p "$top/SOURCES" "$top/src"
sh "$root/tests/packaging/copy_tree.sh" "$root" "$top/src/$name-$version"
tar -czf "$top/SOURCES/$name-$version.tar.gz" -C "$top/src" \
  "$name-$version"
rm -rf "$top/src"

# Each macro only where the host's rpm does not define it.
set -- --define "_topdir $top" --define "debug_package %{nil}"
defined() { [ "$(rpm --eval "%{?$1:y}")" = y ]; }
defined _vpath_builddir ||
  set -- "$@" --define "_vpath_builddir redhat-linux-build"
defined cmake || set -- "$@" --define "cmake cmake -S . \
-B %{_vpath_builddir} -DCMAKE_BUILD_TYPE=RelWithDebInfo \
-DCMAKE_INSTALL_PREFIX:PATH=%{_prefix} -DCMAKE_INSTALL_LIBDIR:PATH=%{_libdir} \
-DCMAKE_INSTALL_SYSCONFDIR:PATH=%{_sysconfdir} \
-DCMAKE_INSTALL_LOCALSTATEDIR:PATH=%{_localstatedir} \
-DCMAKE_INSTALL_MANDIR:PATH=%{_mandir}"
defined cmake_build ||
  set -- "$@" --define "cmake_build cmake --build %{_vpath_builddir} -j$(nproc)"
defined cmake_install || set -- "$@" --define \
  "cmake_install DESTDIR=%{buildroot} cmake --install %{_vpath_builddir}"
defined _tmpfilesdir || set -- "$@" --define "_tmpfilesdir /usr/lib/tmpfiles.d"
defined _unitdir || set -- "$@" --define "_unitdir /usr/lib/systemd/system"
defined tmpfiles_create || set -- "$@" --define \
  "tmpfiles_create() systemd-tmpfiles --create %{?*} >/dev/null 2>&1 || :"

echo "build_rpm: building $name $version in $top"
if ! rpmbuild -bb --nodeps "$@" "$spec" >"$top/build.log" 2>&1; then
  tail -n 60 "$top/build.log" >&2
  echo "build_rpm: rpmbuild failed (log: $top/build.log)" >&2
  exit 1
fi

status=0
rpms=$(find "$top/RPMS" -name '*.rpm' | sort)
echo "$rpms"
main=$(echo "$rpms" | grep "/$name-$version-" || true)
tools=$(echo "$rpms" | grep "/wif-tools-$version-" || true)
if [ -z "$main" ] || [ -z "$tools" ]; then
  echo "FAIL: expected $name and wif-tools packages" >&2
  exit 1
fi
libdir=$(rpm --eval '%{_libdir}')
# rpm -qp --dump: path size mtime digest mode owner group isconfig ...
# Man pages may be compressed (Fedora) or not (Debian's rpm); modules are
# 0755 or 0644 depending on the host's rpm scripts.
expect() { # expect RPM PATH MODE|MODE CONFIG
  line=$(rpm -qp --dump "$1" 2>/dev/null |
    awk -v p="$2" '$1 == p || $1 == p ".gz"')
  if [ -z "$line" ]; then
    echo "FAIL: $2 is not in $(basename "$1")" >&2
    status=1
    return
  fi
  mode=$(printf '%s\n' "$line" | awk '{print substr($5, length($5) - 3)}')
  owner=$(printf '%s\n' "$line" | awk '{print $6 ":" $7}')
  config=$(printf '%s\n' "$line" | awk '{print $8}')
  case "|$3|" in *"|$mode|"*) ;; *) mode="$mode (unexpected)" ;; esac
  if [ "${mode#*unexpected}" != "$mode" ] || [ "$owner" != "root:root" ] ||
      [ "$config" != "$4" ]; then
    echo "FAIL: $2: mode $mode owner $owner config $config," \
      "expected $3 root:root $4" >&2
    status=1
  else
    echo "ok: $2 $mode $owner config=$config"
  fi
}
expect "$main" "$libdir/security/pam_wif.so" "0755|0644" 0
expect "$main" /usr/libexec/pam_wif/pam_wif-helper 0755 0
expect "$main" /etc/security/pam_wif.conf 0644 1
expect "$main" /etc/security/pam_wif.map 0644 1
expect "$main" /usr/lib/tmpfiles.d/pam_wif.conf 0644 0
expect "$main" /var/cache/pam_wif 0700 0
expect "$main" /usr/share/man/man8/pam_wif.8 0644 0
expect "$main" /usr/share/man/man5/pam_wif.conf.5 0644 0
expect "$main" /usr/share/man/man5/pam_wif.map.5 0644 0
expect "$tools" /usr/bin/wifctl 0755 0
expect "$tools" /usr/share/man/man1/wifctl.1 0644 0
# libcurl is loaded with dlopen: the spec must require it by hand.
for r in "$main" "$tools"; do
  if ! rpm -qpR "$r" 2>/dev/null | grep -q '^libcurl'; then
    echo "FAIL: $(basename "$r") does not require libcurl" >&2
    status=1
  fi
done
# %config(noreplace), not just %config.
if ! rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$main" |
    grep -q '^/etc/security/pam_wif.conf .*n'; then
  echo "FAIL: pam_wif.conf is not %config(noreplace)" >&2
  status=1
fi
exit $status
