#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Per-login cost of pam_wif against pam_permit, measured in the same run
# with hyperfine over pamtester (a real libpam, /etc/pam.d services).
#
#   tests/bench/bench_login.sh [BUILD_DIR]      (root; default ./build)
#
# Services, each `auth` + `account` through pamtester:
#   permit    pam_permit.so alone: the floor (process start, libpam, conv)
#   wif-load  pam_wif.so with an invalid PAM_USER: it is loaded (libcrypto
#             too) but refuses before reading any file
#   wif       pam_wif.so, a valid token, keys from a warm jwks_file
#   wif-warm  keys over HTTPS (the loopback test IdP), the cache warm: no
#             network, and the module starts no process
#   wif-cold  the same with the cache emptied before each login: discovery
#             and JWKS over HTTPS (through pam_wif-helper when the build
#             has one), the cache written
# The script takes any build, older ones without the helper too, so that
# before/after figures come from the same harness.
# wif / permit is the ratio to watch (target <= 1.5); wif-load - permit is
# the cost of loading the module, wif - wif-load the cost of the decision
# (config, map and key set parsing, signature, passwd lookup). Needs
# hyperfine and pamtester (Debian packages of the same names) and the test
# keys (run ctest -R fixtures_keys once).
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
module="$build/pam_wif.so"
keys="$build/tests/keys"
runs=${RUNS:-300}
python=${WIF_PYTHON:-/usr/bin/python3} # with PyJWT

[ "$(id -u)" = 0 ] || { echo "bench_login: run as root" >&2; exit 2; }
for tool in hyperfine pamtester "$python"; do
  command -v "$tool" >/dev/null ||
    { echo "bench_login: $tool is not installed" >&2; exit 2; }
done
[ -f "$module" ] || { echo "bench_login: no $module" >&2; exit 2; }
[ -f "$keys/rs256.key.pem" ] ||
  { echo "bench_login: no test keys; run ctest -R fixtures_keys" >&2; exit 2; }
permit=$(find /lib /usr/lib -name pam_permit.so -path '*security*' | head -n1)
helper_arg=""
[ -x "$build/pam_wif-helper" ] && helper_arg="helper=$build/pam_wif-helper"

# Inside the build tree: every parent must be non-group/world-writable.
dir=$(mktemp -d "$build/bench-login.XXXXXX")
chmod 755 "$dir"
svc_permit="wif_bench_permit_$$"
svc_wif="wif_bench_wif_$$"
svc_https="wif_bench_https_$$"
idp_pid=""
cleanup() {
  [ -n "$idp_pid" ] && kill "$idp_pid" 2>/dev/null
  rm -f "/etc/pam.d/$svc_permit" "/etc/pam.d/$svc_wif" "/etc/pam.d/$svc_https"
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

cp "$keys/jwks.json" "$dir/jwks.json"
cat >"$dir/pam_wif.conf" <<EOF
[global]
map_file = $dir/pam_wif.map
[provider bench]
issuer = https://issuer.example/bench
audience = api://bench
jwks_file = $dir/jwks.json
EOF
echo "bench user alice nobody" >"$dir/pam_wif.map"
# The loopback HTTPS IdP, bounded in time, for the warm and cold cases.
mkdir -m 755 "$dir/idp"
"$python" "$root/tests/tools/test_idp.py" --keys "$keys" --state "$dir/idp" \
  --lifetime 900 --kids rs256 >/dev/null 2>&1 &
idp_pid=$!
i=0
until [ -s "$dir/idp/port" ]; do
  i=$((i + 1))
  [ $i -lt 200 ] || { echo "bench_login: the test IdP did not start" >&2; exit 1; }
  sleep 0.05
done
issuer="https://localhost:$(cat "$dir/idp/port")/bench"
cp "$dir/idp/ca.pem" "$dir/ca.pem"
cat >"$dir/https.conf" <<EOF
[global]
map_file = $dir/https.map
cache_dir = $dir/cache
[provider https]
issuer = $issuer
audience = api://bench
ca_file = $dir/ca.pem
EOF
echo "https user alice nobody" >"$dir/https.map"
chmod 644 "$dir"/*.conf "$dir"/*.map "$dir"/*.json "$dir/ca.pem"
"$python" - "$keys/rs256.key.pem" >"$dir/token" <<'EOF'
import sys, time, jwt
now = int(time.time())
key = open(sys.argv[1], "rb").read()
print(jwt.encode({"iss": "https://issuer.example/bench", "aud": "api://bench",
                  "sub": "alice", "iat": now, "exp": now + 3600},
                 key, algorithm="RS256", headers={"kid": "rs256"}))
EOF
printf 'auth required %s\naccount required %s\n' "$permit" "$permit" \
  >"/etc/pam.d/$svc_permit"
printf 'auth required %s config=%s/pam_wif.conf\naccount required %s config=%s/pam_wif.conf\n' \
  "$module" "$dir" "$module" "$dir" >"/etc/pam.d/$svc_wif"
printf 'auth required %s config=%s/https.conf %s\naccount required %s config=%s/https.conf\n' \
  "$module" "$dir" "$helper_arg" "$module" "$dir" >"/etc/pam.d/$svc_https"
"$python" - "$keys/rs256.key.pem" "$issuer" >"$dir/token-https" <<'EOF'
import sys, time, jwt
now = int(time.time())
key = open(sys.argv[1], "rb").read()
print(jwt.encode({"iss": sys.argv[2], "aud": "api://bench", "sub": "alice",
                  "iat": now, "exp": now + 3600},
                 key, algorithm="RS256", headers={"kid": "rs256"}))
EOF

# Sanity: the measured logins must succeed (and the refusal must refuse).
pamtester "$svc_wif" nobody authenticate acct_mgmt <"$dir/token" >/dev/null
pamtester "$svc_https" nobody authenticate acct_mgmt <"$dir/token-https" >/dev/null
# A warm login starts no process: no clone, fork or exec past pamtester's.
if strace -f -e trace=execve,clone,clone3,fork,vfork -o "$dir/strace" \
    pamtester "$svc_https" nobody authenticate acct_mgmt \
    <"$dir/token-https" >/dev/null; then
  procs=$(grep -c -E 'clone|fork|execve' "$dir/strace")
  echo "warm HTTPS login: $((procs - 1)) process(es) started by the module"
fi
if pamtester "$svc_wif" -nobody authenticate <"$dir/token" >/dev/null 2>&1
then
  echo "bench_login: an invalid user was accepted" >&2
  exit 1
fi

# One --prepare per command, in order: only the cold case empties the cache.
hyperfine --warmup 20 --runs "$runs" --export-json "$dir/result.json" \
  --prepare true --prepare true --prepare true --prepare true \
  --prepare "rm -rf $dir/cache" \
  -n permit "pamtester $svc_permit nobody authenticate acct_mgmt <$dir/token" \
  -n wif-load "pamtester $svc_wif -nobody authenticate <$dir/token || true" \
  -n wif "pamtester $svc_wif nobody authenticate acct_mgmt <$dir/token" \
  -n wif-warm "pamtester $svc_https nobody authenticate acct_mgmt <$dir/token-https" \
  -n wif-cold "pamtester $svc_https nobody authenticate acct_mgmt <$dir/token-https"

"$python" - "$dir/result.json" <<'EOF'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
ms = {k: v["mean"] * 1000 for k, v in r.items()}
print()
print("mean per login: permit %.2f ms, wif-load %.2f ms, wif %.2f ms"
      % (ms["permit"], ms["wif-load"], ms["wif"]))
print("ratio wif / permit: %.2fx (target <= 1.5x)" % (ms["wif"] / ms["permit"]))
print("loading pam_wif.so and its libraries: %.2f ms" % (ms["wif-load"] - ms["permit"]))
print("the decision (files, keys, signature, account): %.2f ms"
      % (ms["wif"] - ms["wif-load"]))
print("keys over HTTPS: warm cache %.2f ms (%.2fx permit), cold %.2f ms "
      "(the fetch: %.2f ms)" % (ms["wif-warm"], ms["wif-warm"] / ms["permit"],
                                ms["wif-cold"], ms["wif-cold"] - ms["wif-warm"]))
EOF

# Where the load time goes: the dynamic linker's own statistics.
echo
echo "dynamic linking of one pam_wif login (LD_DEBUG=statistics):"
LD_DEBUG=statistics pamtester "$svc_wif" nobody authenticate acct_mgmt \
  <"$dir/token" 2>&1 | grep -E "total startup time|time needed for relocation|number of relocations:|objects loaded" |
  sed 's/^ *[0-9]*: */  /'
