#!/usr/bin/python3
"""The pam_wif demo: workloads log in to a real sshd with nothing but a token.

Run through demo/run.sh, which builds pam_wif first. Everything it starts
and creates (identity provider, sshd, PAM service, accounts, files) is
removed at the end, also when a step fails.
"""
import argparse
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "e2e"))
import harness  # noqa: E402


def say(msg):
    print("\n== " + msg, flush=True)


def show(text, indent="   "):
    for line in text.rstrip("\n").splitlines():
        print(indent + line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", required=True)
    ap.add_argument("--wifctl", required=True)
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    ok = True
    with harness.Host(args.module, args.wifctl,
                      log=lambda m: print("   " + m, flush=True)) as host:
        say("An admin host: sshd on 127.0.0.1:%d, PAM service %s"
            % (host.port, host.service))
        print("   trusted issuer (a local HTTPS identity provider): " +
              host.issuer)
        say("pam_wif.map: which workload may become which account")
        show(open(host.map_file).read())

        say("The workload 'workload-db' gets a token from its issuer")
        path, token = host.token("demo", "workload-db")
        print("   %d-byte RS256 token for aud %s" % (len(token),
                                                      harness.AUDIENCE))
        user = host.users["db"]
        cmd = "echo \"logged in as $(id -un)\"; env | grep '^WIF_' | sort"
        print("   $ wifctl ssh --source file:TOKEN -- %s@127.0.0.1 ..." % user)
        r = host.ssh(user, "file:" + path, cmd)
        if r.returncode == 0:
            show(r.stdout)
        else:
            ok = False
            print("   UNEXPECTED: refused (exit %d): %s" % (r.returncode,
                                                           r.stderr.strip()))

        say("A workload that no mapping line names, 'workload-intruder'")
        mark = len(host.log_lines())
        path, _ = host.token("intruder", "workload-intruder")
        print("   $ wifctl ssh --source file:TOKEN -- %s@127.0.0.1 ..." % user)
        r = host.ssh(user, "file:" + path, "id")
        if r.returncode != 0:
            print("   refused: " + (r.stderr.strip().splitlines() or ["?"])[-1])
        else:
            ok = False
            print("   UNEXPECTED: it got in")
        line = host.wait_log("NO_MAPPING", mark)
        print("   pam_wif's log line: " + (line or "(none found)"))
        ok = ok and line is not None

        say("Cleaning up")
    say("Demo %s" % ("done: one workload in, one refused" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
