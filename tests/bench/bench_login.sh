#!/bin/sh
# Per-login cost of pam_wif against pam_permit, measured in the same run
# with hyperfine over pamtester (a real libpam, /etc/pam.d services).
#
#   tests/bench/bench_login.sh [BUILD_DIR]      (root; default ./build)
#
# Three services, each `auth` + `account` through pamtester:
#   permit    pam_permit.so alone: the floor (process start, libpam, conv)
#   wif-load  pam_wif.so with an invalid PAM_USER: it is loaded (libcrypto
#             too) but refuses before reading any file
#   wif       pam_wif.so, a valid token, keys from a warm jwks_file
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

# Inside the build tree: every parent must be non-group/world-writable.
dir=$(mktemp -d "$build/bench-login.XXXXXX")
chmod 755 "$dir"
svc_permit="wif_bench_permit_$$"
svc_wif="wif_bench_wif_$$"
cleanup() {
  rm -f "/etc/pam.d/$svc_permit" "/etc/pam.d/$svc_wif"
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
chmod 644 "$dir"/*
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

# Sanity: the measured logins must succeed (and the refusal must refuse).
pamtester "$svc_wif" nobody authenticate acct_mgmt <"$dir/token" >/dev/null
if pamtester "$svc_wif" -nobody authenticate <"$dir/token" >/dev/null 2>&1
then
  echo "bench_login: an invalid user was accepted" >&2
  exit 1
fi

hyperfine --warmup 20 --runs "$runs" --export-json "$dir/result.json" \
  -n permit "pamtester $svc_permit nobody authenticate acct_mgmt <$dir/token" \
  -n wif-load "pamtester $svc_wif -nobody authenticate <$dir/token || true" \
  -n wif "pamtester $svc_wif nobody authenticate acct_mgmt <$dir/token"

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
EOF

# Where the load time goes: the dynamic linker's own statistics.
echo
echo "dynamic linking of one pam_wif login (LD_DEBUG=statistics):"
LD_DEBUG=statistics pamtester "$svc_wif" nobody authenticate acct_mgmt \
  <"$dir/token" 2>&1 | grep -E "total startup time|time needed for relocation|number of relocations:|objects loaded" |
  sed 's/^ *[0-9]*: */  /'
