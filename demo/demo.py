#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The pam_wif demo: workloads log in to a real sshd with nothing but a token.

Run through demo/run.sh, which builds pam_wif first. Everything it starts
and creates (identity provider, sshd, PAM service, accounts, files) is
removed at the end, also when a step fails. It prints the configuration,
mapping, PAM lines and sshd settings it used, so they can be copied, and
says why when a step fails.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import harness  # noqa: E402


def say(msg):
    print("\n== " + msg, flush=True)


def show(text, indent="   "):
    for line in text.rstrip("\n").splitlines():
        print(indent + line)
    sys.stdout.flush()


def read(path):
    with open(path) as f:
        return f.read()


class PrivateLog:
    """pam_wif's log lines, whoever owns /dev/log.

    In a private mount namespace (demo/run.sh starts the demo in one with
    unshare), a receiver bound to a socket of our own is mounted over
    /dev/log: the module, loaded by sshd in this namespace, logs to it,
    and neither journald, rsyslog nor anything else owning the real
    /dev/log is involved or disturbed. The mount ends with the namespace.
    """

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pam_wif_demo_log.", dir="/run")
        self.file = os.path.join(self.dir, "syslog")
        self.proc = None

    def start(self):
        sock = os.path.join(self.dir, "log")
        ready = os.path.join(self.dir, "ready")
        self.proc = harness.rootenv.start_syslog_sink(self.file, ready, 3600,
                                                      sock)
        # A symbolic link (/run/systemd/journal/dev-log) is followed: the
        # mount covers its target, in this namespace only.
        r = subprocess.run(["mount", "--bind", sock, "/dev/log"],
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("cannot mount the demo's syslog receiver on "
                               "/dev/log: " + r.stderr.strip())
        return self

    def close(self):
        harness.rootenv.stop(self.proc)
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class DemoHost(harness.Host):
    """The end-to-end harness's host, logging to the demo's receiver."""

    private_log = None

    def _start_syslog(self):
        if self.private_log is None:
            return super()._start_syslog()
        self.syslog_file = self.private_log.file
        return None


def print_setup(host):
    say("What this demo set up (copy from here)")
    print("   pam_wif.conf (%s):" % host.config)
    show(read(host.config), "     | ")
    print("   pam_wif.map (%s):" % host.map_file)
    show(read(host.map_file), "     | ")
    print("   PAM service %s:" % host.pam_file)
    show(read(host.pam_file), "     | ")
    print("   sshd settings (sshd -f %s):" % os.path.join(host.dir,
                                                        "sshd_config"))
    show(read(os.path.join(host.dir, "sshd_config")), "     | ")
    print("   On a real host: /etc/security/pam_wif.conf and pam_wif.map,\n"
          "   /etc/pam.d/sshd, and the sshd drop-in conf/sshd_config.d/"
          "pam_wif.conf,\n   which keeps keyboard-interactive (tokens) for "
          "workload accounts only.\n   helper= names this build's helper; "
          "the packages' module finds\n   /usr/libexec/pam_wif/pam_wif-helper "
          "itself.")


def explain_refusal(host, r, mark):
    """Why a login that should have worked did not."""
    print("   ssh exit status %d; what ssh said:" % r.returncode)
    show(r.stderr or "(nothing)", "     | ")
    lines = host.log_lines()[mark:]
    if lines:
        print("   pam_wif's log lines for it:")
        show("\n".join(lines), "     | ")
    else:
        print("   pam_wif logged nothing for it: the module may not have "
              "been reached (sshd's log follows).")
    try:
        tail = read(host.sshd_log).splitlines()[-15:]
        print("   sshd's log (last lines):")
        show("\n".join(tail), "     | ")
    except OSError:
        pass


def run_demo(host):
    ok = True
    say("An admin host: sshd on 127.0.0.1:%d, PAM service %s"
        % (host.port, host.service))
    print("   trusted issuer (a local HTTPS identity provider): " +
          host.issuer)
    print_setup(host)

    say("The workload 'workload-db' gets a token from its issuer")
    path, token = host.token("demo", "workload-db")
    print("   %d-byte RS256 token for aud %s" % (len(token), harness.AUDIENCE))
    user = host.users["db"]
    cmd = "echo \"logged in as $(id -un)\"; env | grep '^WIF_' | sort"
    print("   $ wifctl ssh --source file:TOKEN -- %s@127.0.0.1 ..." % user)
    mark = len(host.log_lines())
    r = host.ssh(user, "file:" + path, cmd)
    if r.returncode == 0:
        show(r.stdout)
        line = host.wait_log("outcome=success", mark)
        if line:
            print("   pam_wif's log line: " + line)
    else:
        ok = False
        print("   FAILED: the mapped workload was refused.")
        explain_refusal(host, r, mark)

    say("A workload that no mapping line names, 'workload-intruder'")
    mark = len(host.log_lines())
    path, _ = host.token("intruder", "workload-intruder")
    print("   $ wifctl ssh --source file:TOKEN -- %s@127.0.0.1 ..." % user)
    r = host.ssh(user, "file:" + path, "id")
    if r.returncode != 0:
        print("   refused: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    else:
        ok = False
        print("   FAILED: it got in:")
        show(r.stdout)
    line = host.wait_log("NO_MAPPING", mark)
    if line:
        print("   pam_wif's log line: " + line)
    else:
        # The module's exact decision, without syslog.
        v = subprocess.run([host.wifctl, "verify", "-c", host.config,
                            "--account", user, "--token-file", path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        print("   pam_wif's log line did not arrive; wifctl verify makes "
              "the same decision:")
        show(v.stdout, "     | ")
        if host.syslog_file is not None:
            ok = False  # our own receiver should have had it
            print("   FAILED: the demo's syslog receiver got no NO_MAPPING "
                  "line")
        else:
            print("   (pam_wif logs to LOG_AUTHPRIV: journalctl "
                  "SYSLOG_FACILITY=10, or /var/log/auth.log)")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--module", required=True)
    ap.add_argument("--wifctl", required=True)
    ap.add_argument("--helper", required=True,
                    help="the build's pam_wif-helper (installed, it is "
                    "found without being named)")
    ap.add_argument("--private-log", action="store_true",
                    help="in a private mount namespace: receive pam_wif's "
                    "log lines on our own /dev/log")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    if os.geteuid() != 0:
        print("demo: run as root (it adds a PAM service, accounts and an "
              "sshd)", file=sys.stderr)
        return 77
    for f in (args.module, args.wifctl, args.helper):
        if not os.path.isfile(f):
            print("demo: %s is missing: build first (demo/run.sh does)" % f,
                  file=sys.stderr)
            return 1

    # The module and wifctl fetch keys through the helper; the harness
    # names it in the PAM lines (helper=) and wifctl reads WIF_HELPER.
    os.environ["WIF_HELPER"] = os.path.abspath(args.helper)
    private = None
    ok = False
    try:
        # Without /dev/log the harness binds its own receiver there.
        if args.private_log and os.path.exists("/dev/log"):
            private = PrivateLog().start()
        DemoHost.private_log = private
        say("Starting: identity provider, accounts, PAM service, sshd")
        with DemoHost(args.module, args.wifctl,
                      log=lambda m: print("   " + m, flush=True)) as host:
            ok = run_demo(host)
            say("Cleaning up")
    except Exception as e:  # noqa: BLE001 - the demo explains, then exits
        print("\ndemo: a step failed: %s" % e, file=sys.stderr)
        traceback.print_exc(limit=3)
        print("demo: everything it created has been removed; see the "
              "messages above for the step that failed.", file=sys.stderr)
    finally:
        if private is not None:
            private.close()
    say("Demo %s" % ("done: one workload in, one refused" if ok else
                     "FAILED (the reason is above)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
