#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Fault-injection sweeps of wifctl (built as wifctl_fi, see wrap.h).

For N = 1, 2, ... runs one wifctl command with WIF_FI_FAIL=N, which fails
the Nth wrapped call (malloc, open, read, fstat, ...), until a run no longer
reaches call N. Each run in which a call failed must exit 1, 2 or 3 (never
0, never a signal, never a sanitizer report); the final run must succeed
(exit 0), which proves the swept path is the success path. In the sanitizer
build LeakSanitizer makes any leak a non-wifctl exit code (86).

Sweeps (one ctest test each):
  verify_standalone   wifctl verify --issuer --audience --jwks TOKEN-FILE
  verify_config       wifctl verify -c CONF (a jwks_file provider; cold:
                      nothing cached)
  token_file          wifctl token --source file:PATH
  token_exec          wifctl token --source exec:"/bin/cat PATH" --no-cache
  token_azure         wifctl token --source azure against a loopback IMDS
  token_gcp           wifctl token --source gcp against a loopback server
The network sweeps serve the answer from a thread of this script on
127.0.0.1, with --timeout 10: nothing injected makes an exchange hang, and
a slow run (ASan, a loaded machine) must not time out, which would make
the run that injected nothing fail. The PAM sweeps (warm and cold cache)
are fi_pam.c's.

Usage: fi_wifctl.py --wifctl PATH --keys DIR --tmp DIR SWEEP
"""
import argparse
import base64
import http.server
import threading
import json
import os
import shutil
import subprocess
import sys
import time

import jwt

ISS = "https://issuer.example/fi"
AUD = "fi-aud"
SANITIZER_EXIT = 86
MAX_CALLS = 20000


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def write(path, data, mode=0o600):
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


def make_token(keys):
    with open(os.path.join(keys, "rs256.key.pem"), "rb") as f:
        key = f.read()
    now = int(time.time())
    claims = {"iss": ISS, "aud": AUD, "sub": "workload-1", "exp": now + 600,
              "iat": now - 10, "groups": ["a", "b"]}
    return jwt.encode(claims, key, algorithm="RS256",
                      headers={"kid": "rs256"})


def setup(args):
    work = os.path.join(args.tmp, "wifctl-" + args.sweep)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, mode=0o700)
    os.chmod(work, 0o700)
    shutil.copy(os.path.join(args.keys, "jwks.json"),
                os.path.join(work, "keys.jwks"))
    os.chmod(os.path.join(work, "keys.jwks"), 0o600)
    write(os.path.join(work, "token"), make_token(args.keys) + "\n")
    write(os.path.join(work, "wif.conf"),
          "[provider fi]\nissuer = %s\naudience = %s\nalgorithms = RS256\n"
          "jwks_file = %s\nrequire = sub = workload-*\n"
          % (ISS, AUD, os.path.join(work, "keys.jwks")))
    return work


class Metadata(http.server.BaseHTTPRequestHandler):
    """Answers every GET as IMDS (JSON) or GCP (the bare token) would."""
    token = ""

    def do_GET(self):
        if "computeMetadata" in self.path:
            body = self.token.encode()
            kind = "application/text"
        else:
            body = json.dumps({"access_token": self.token,
                               "expires_in": "3599",
                               "token_type": "Bearer"}).encode()
            kind = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Metadata-Flavor", "Google")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def serve(token):
    Metadata.token = token
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return "http://127.0.0.1:%d" % srv.server_address[1]


def command(args, work):
    token = ["--token-file", os.path.join(work, "token")]
    tfile = os.path.join(work, "token")
    tok = ["token", "--audience", AUD, "--no-cache"]
    if args.sweep == "token_file":
        return [args.wifctl, "token", "--source", "file:" + tfile]
    if args.sweep == "token_exec":
        return [args.wifctl] + tok + ["--source", "exec:/bin/cat " + tfile]
    if args.sweep in ("token_azure", "token_gcp"):
        with open(tfile) as f:
            url = serve(f.read().strip())
        return [args.wifctl] + tok + ["--source", args.sweep[6:],
                                      "--endpoint", url, "--timeout", "10"]
    if args.sweep == "verify_standalone":
        return [args.wifctl, "verify", "--issuer", ISS, "--audience", AUD,
                "--jwks", os.path.join(work, "keys.jwks")] + token
    if args.sweep == "verify_config":
        return [args.wifctl, "verify", "-c", os.path.join(work, "wif.conf")]\
            + token
    raise SystemExit("unknown sweep " + args.sweep)


def run(cmd, work, n):
    report = os.path.join(work, "report")
    if os.path.exists(report):
        os.unlink(report)
    env = dict(os.environ, WIF_FI_FAIL=str(n), WIF_FI_REPORT=report)
    opts = "exitcode=%d:abort_on_error=0" % SANITIZER_EXIT
    env["ASAN_OPTIONS"] = opts + ":detect_leaks=1"
    env["UBSAN_OPTIONS"] = opts + ":halt_on_error=1:print_stacktrace=1"
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    fields = {}
    if os.path.exists(report):
        with open(report) as f:
            for item in f.read().split():
                k, _, v = item.partition("=")
                fields[k] = v
    return p, fields


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wifctl", required=True)
    ap.add_argument("--keys", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("sweep")
    args = ap.parse_args()
    work = setup(args)
    cmd = command(args, work)
    failures = []
    counts = {}
    n = 0
    while True:
        n += 1
        if n > MAX_CALLS:
            failures.append("more than %d wrapped calls" % MAX_CALLS)
            break
        p, fields = run(cmd, work, n)
        err = p.stderr.decode(errors="replace")
        if "Sanitizer" in err or "runtime error" in err:
            failures.append("N=%d: sanitizer report:\n%s" % (n, err))
            break
        if "injected" not in fields:
            failures.append("N=%d: exit %d and no report (crash?)\n%s"
                            % (n, p.returncode, err))
            break
        if fields["injected"] == "0":
            if p.returncode != 0:
                failures.append("success path fails without injection: exit "
                                "%d\n%s" % (p.returncode, err))
            break
        name = fields["name"]
        counts[name] = counts.get(name, 0) + 1
        if p.returncode not in (1, 2, 3):
            failures.append("N=%d (%s failed): exit %d, expected 1, 2 or 3\n%s"
                            % (n, name, p.returncode, err))
    print("sweep %s: %d wrapped calls, each failed once (%s)" % (
        args.sweep, n - 1,
        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    if n - 1 < 10:
        failures.append("only %d wrapped calls: is the wrapping broken?"
                        % (n - 1))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
