#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""End to end: a real sshd, the real ssh client, pam_wif and wifctl.

  test_e2e.py --module build/pam_wif.so --wifctl build/wifctl [-v] [Class]

Needs root (accounts, a PAM service, sshd); exits 77 (skipped) otherwise.
"""
import os
import signal
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import harness  # noqa: E402
import testmain  # noqa: E402

ARGS = None
SHOW = 'printf "%s|%s|%s|%s" "$(id -un)" "$WIF_SUBJECT" "$WIF_PROVIDER" ' \
       '"$WIF_ISSUER"'


class E2E(unittest.TestCase):
    host = None

    @classmethod
    def setUpClass(cls):
        cls.host = harness.Host(ARGS.module, ARGS.wifctl).open()

    @classmethod
    def tearDownClass(cls):
        if cls.host is not None:
            cls.host.close()

    def login(self, user, token_path, command=SHOW):
        return self.host.ssh(user, "file:" + token_path, command)

    def assert_in(self, user, token_path, subject, provider):
        mark = len(self.host.log_lines())
        r = self.login(user, token_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        who, sub, prov, iss = r.stdout.split("|")
        self.assertEqual(who, user)
        self.assertEqual(sub, subject)
        self.assertEqual(prov, provider)
        self.assertTrue(iss.startswith("https://localhost:"))
        self.assertIsNotNone(self.host.wait_log(user, mark),
                             "no pam_wif log line for the login")

    def assert_out(self, user, token_path, reason):
        mark = len(self.host.log_lines())
        r = self.login(user, token_path)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("Permission denied", r.stderr)
        line = self.host.wait_log(reason, mark)
        self.assertIsNotNone(line, "no pam_wif log line with %s in %r" %
                             (reason, self.host.log_lines()[mark:]))
        return line


class LoginTest(E2E):
    def test_user_mapped_identity_logs_in(self):
        path, token = self.host.token("user", "workload-db")
        self.assert_in(self.host.users["db"], path, "workload-db", "idp-user")

    def test_one_identity_several_accounts(self):
        path, _ = self.host.token("multi", "workload-multi", kid="es256")
        for role in ("db", "ro"):
            self.assert_in(self.host.users[role], path, "workload-multi",
                           "idp-user")

    def test_group_mapped_identity_logs_in(self):
        path, _ = self.host.token("group", "sa-42",
                                  iss=self.host.issuer + "/groups",
                                  groups=["x", "5e0c2b7d-readers"])
        self.assert_in(self.host.users["ro"], path, "sa-42", "idp-group")

    def test_identity_refused_for_an_unmapped_account(self):
        path, _ = self.host.token("group2", "sa-42",
                                  iss=self.host.issuer + "/groups",
                                  groups=["5e0c2b7d-readers"])
        self.assert_out(self.host.users["db"], path, "NO_MAPPING")


class RefusalTest(E2E):
    def test_unmapped_identity(self):
        path, _ = self.host.token("nobody", "workload-nobody")
        self.assert_out(self.host.users["db"], path, "NO_MAPPING")

    def test_expired_token(self):
        path, _ = self.host.token("expired", "workload-db", ttl=300, age=900)
        self.assert_out(self.host.users["db"], path, "EXPIRED")

    def test_token_for_another_audience(self):
        path, _ = self.host.token("aud", "workload-db", aud="api://other")
        self.assert_out(self.host.users["db"], path, "AUD_MISMATCH")

    def test_token_from_an_untrusted_issuer(self):
        path, _ = self.host.token("iss", "workload-db",
                                  iss=self.host.untrusted_issuer)
        self.assert_out(self.host.users["db"], path, "ISS_MISMATCH")

    def test_forged_signature(self):
        path, token = self.host.token("forged", "workload-db")
        head, payload, sig = token.split(".")
        forged = ".".join((head, payload, sig[:-4] + "AAAA"))
        with open(path, "w") as f:
            f.write(forged)
        self.assert_out(self.host.users["db"], path, "BAD_SIGNATURE")


class LongTokenTest(E2E):
    def test_2500_byte_rs256_token_in_parts(self):
        path, token = self.host.token("long", "workload-db", size=2500)
        self.assertGreater(len(token), 2400)
        self.assert_in(self.host.users["db"], path, "workload-db", "idp-user")

    def test_token_just_under_16_kib(self):
        path, token = self.host.token("max", "workload-db", size=16384)
        self.assertGreater(len(token), 16380)
        self.assert_in(self.host.users["db"], path, "workload-db", "idp-user")

    def test_token_over_16_kib_refused(self):
        # wifctl askpass will not send such a token, so a plain askpass
        # program plays a client that does.
        path, token = self.host.token("over", "workload-db", size=16500)
        self.assertGreater(len(token), 16384)
        askpass = self.host.write("raw-askpass", RAW_ASKPASS % path, 0o700)
        mark = len(self.host.log_lines())
        r = self.host.ssh_raw(self.host.users["db"], askpass, "true")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Permission denied", r.stderr)
        self.assertIsNotNone(self.host.wait_log("TOO_LARGE", mark),
                             self.host.log_lines()[mark:])


RAW_ASKPASS = """#!/usr/bin/python3
import re, sys
token = open(%r).read()
m = re.search(r"part (\\d+)", sys.argv[1])
n = int(m.group(1)) if m else 1
part = token[(n - 1) * 1000:n * 1000]
sys.stdout.write(part + ("\\\\" if n * 1000 < len(token) else ""))
"""


class IssuerDownTest(E2E):
    def test_warm_cache_survives_an_unreachable_issuer(self):
        path, _ = self.host.token("warm", "workload-db")
        self.assert_in(self.host.users["db"], path, "workload-db", "idp-user")
        self.host.idp.config(mode="hang", fault_on="all")
        try:
            started = time.monotonic()
            self.assert_in(self.host.users["db"], path, "workload-db",
                           "idp-user")
            self.assertLess(time.monotonic() - started, 30)
        finally:
            self.host.idp.config(mode="ok")


class WorkloadSourceTest(E2E):
    """Tokens the workload side fetches itself, carried by wifctl ssh."""

    def login_with(self, source_args, env=None):
        user = self.host.users["db"]
        cmd = ([self.host.wifctl, "ssh"] + source_args + ["--no-cache", "--"] +
               self.host._ssh_options() + ["%s@127.0.0.1" % user, SHOW])
        base = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": self.host.dir, "LANG": "C"}
        base.update(env or {})
        r = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, env=base,
                           timeout=90)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.split("|")[:2], [user, "workload-db"])

    def test_azure_imds(self):
        proc, url = self.host.fake_metadata("azure", "workload-db")
        try:
            self.login_with(["--source", "azure", "--endpoint", url,
                             "--audience", harness.AUDIENCE])
        finally:
            proc.kill()
            proc.wait()

    def test_gcp_metadata(self):
        proc, url = self.host.fake_metadata("gcp", "workload-db")
        try:
            self.login_with(["--source", "gcp", "--endpoint", url,
                             "--audience", harness.AUDIENCE])
        finally:
            proc.kill()
            proc.wait()

    def test_kubernetes_token_file(self):
        path, _ = self.host.token("k8s", "workload-db")
        self.login_with(["--source", "k8s"],
                        {"AZURE_FEDERATED_TOKEN_FILE": path})

    def test_exec_callback(self):
        path, _ = self.host.token("exec", "workload-db")
        script = self.host.root_script("callback", "exec cat %s\n" % path)
        self.login_with(["--source", "exec:" + script])


class HostIdentityTest(E2E):
    """source= in the module: su/sudo-style authorization of the host."""

    def test_file_source(self):
        path, _ = self.host.token("host-file", "workload-db")
        svc = self.host.pam_service("file", "source=file:" + path)
        r = self.host.pamtester(svc, self.host.users["db"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.host.pamtester(svc, self.host.users["other"])
        self.assertIn("Authentication failure", r.stderr)

    def test_exec_source(self):
        path, _ = self.host.token("host-exec", "workload-db")
        script = self.host.root_script("host-callback", "exec cat %s\n" % path)
        svc = self.host.pam_service("exec", "source=exec:" + script)
        r = self.host.pamtester(svc, self.host.users["db"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_exec_source_writable_by_others_is_refused(self):
        path, _ = self.host.token("host-exec2", "workload-db")
        script = self.host.root_script("unsafe-callback",
                                       "exec cat %s\n" % path, 0o757)
        svc = self.host.pam_service("unsafe", "source=exec:" + script)
        r = self.host.pamtester(svc, self.host.users["db"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Error in service module", r.stderr)

    def test_azure_source(self):
        proc, url = self.host.fake_metadata("azure", "workload-db")
        try:
            svc = self.host.pam_service(
                "azure", "source=azure endpoint=%s audience=%s" %
                (url, harness.AUDIENCE))
            r = self.host.pamtester(svc, self.host.users["db"])
            self.assertEqual(r.returncode, 0, r.stderr)
        finally:
            proc.kill()
            proc.wait()

    def test_bad_source_arguments_are_service_errors(self):
        for name, args in (("gh", "source=github audience=x"),
                           ("cc", "source=client-credentials"),
                           ("noaud", "source=azure"),
                           ("nosrc", "audience=api://x"),
                           ("both", "source=k8s use_first_pass")):
            with self.subTest(args=args):
                svc = self.host.pam_service(name, args)
                r = self.host.pamtester(svc, self.host.users["db"])
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("Error in service module", r.stderr)

    def test_unreachable_source_is_unavailable(self):
        svc = self.host.pam_service(
            "down", "source=gcp endpoint=http://127.0.0.1:%d audience=%s" %
            (harness.free_port(), harness.AUDIENCE))
        r = self.host.pamtester(svc, self.host.users["db"])
        self.assertNotEqual(r.returncode, 0)
        # pamtester's text for PAM_AUTHINFO_UNAVAIL
        self.assertIn("cannot retrieve authentication info", r.stderr)


def publish(args):
    global ARGS
    ARGS = args


def prepare(args, rest):
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    if os.geteuid() != 0:
        raise testmain.Skip("needs root (a PAM service, accounts, sshd)")
    for tool in (harness.SSHD, "/usr/bin/ssh"):
        if not os.path.exists(tool):
            raise testmain.Broken("%s is missing (tests/install_deps.sh "
                                  "installs it)" % tool)


if __name__ == "__main__":
    testmain.main(["--module", "--wifctl"], prepare, publish, verbosity=2)
