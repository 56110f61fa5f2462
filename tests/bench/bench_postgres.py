#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A psql login through pam_wif against one with scram-sha-256 passwords.

  tests/bench/bench_postgres.py [--build DIR] [--runs N]     (root)

Starts the private PostgreSQL server of tests/e2e/postgres/pg_harness.py
(initdb + pg_ctl as postgres, 127.0.0.1 only) and measures with hyperfine,
in the same run, one complete psql connection (start, TCP, authentication,
one query, exit) for:

  trust   no authentication: the floor (psql start, fork of a backend)
  scram   scram-sha-256 password authentication (PostgreSQL's default)
  wif     pam_wif with accounts=names, a valid RS256 token as the password,
          keys from the warm on-disk cache (fetched over HTTPS once)

wif / scram is the ratio to watch; wif - trust and scram - trust are the
costs of the authentication alone. Not part of the test pass. Needs
hyperfine and the postgresql package (tests/install_deps.sh).
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e", "postgres"))
import pg_harness  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--helper", help="the key-fetch helper (helper=PATH)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench_postgres: run as root")
    if shutil.which("hyperfine") is None:
        sys.exit("bench_postgres: hyperfine is not installed")
    module = os.path.join(os.path.abspath(args.build), "pam_wif.so")
    with pg_harness.PgHost(
            module, helper=args.helper,
            extra_hba=["host   trustdb all       127.0.0.1/32   trust"]) as h:
        h.sql("CREATE DATABASE trustdb")
        token = h.token("workload-app", ttl=3600)
        psql = os.path.join(h.bindir, "psql")

        def cmd(role, password, db):
            return ("env -i PGPASSWORD=%s PGSSLMODE=disable %s -X -w -At "
                    "-h 127.0.0.1 -p %d -U %s -d %s -c 'SELECT 1'" %
                    (password, psql, h.port, role, db))

        cmds = [("trust", cmd("wif_pg_ro", "x", "trustdb")),
                ("scram", cmd(pg_harness.SCRAM_ROLE, h.scram_password,
                              "scramdb")),
                ("wif", cmd("wif_pg_app", token, "postgres"))]
        # Sanity: every measured login succeeds, and a wrong token fails.
        for name, c in cmds:
            subprocess.run(shlex.split(c), check=True, stdout=subprocess.DEVNULL)
        if h.psql("wif_pg_ro", token).returncode == 0:
            sys.exit("bench_postgres: a token was accepted for another role")
        out = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
        out.close()
        try:
            argv = ["hyperfine", "-N", "--warmup", "10", "--runs",
                    str(args.runs), "--export-json", out.name]
            for name, c in cmds:
                argv += ["-n", name, c]
            subprocess.run(argv, check=True)
            with open(out.name) as f:
                res = {r["command"]: r for r in json.load(f)["results"]}
        finally:
            os.unlink(out.name)
    ms = {k: v["mean"] * 1000 for k, v in res.items()}
    sd = {k: v["stddev"] * 1000 for k, v in res.items()}
    print()
    for k in ("trust", "scram", "wif"):
        print("%-6s %7.2f ms +- %.2f per psql login" % (k, ms[k], sd[k]))
    print("ratio wif / scram (whole login): %.2fx" % (ms["wif"] / ms["scram"]))
    print("authentication alone: scram %.2f ms, wif %.2f ms" %
          (ms["scram"] - ms["trust"], ms["wif"] - ms["trust"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
