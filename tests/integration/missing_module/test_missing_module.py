#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A stack whose pam_wif.so, or a library it needs, cannot be loaded
fails closed with the shipped samples' control flags.

libpam does not refuse a stack with a module it cannot load: it logs the
dlopen error and runs that line as a module that always fails
(PAM_MODULE_UNKNOWN for the auth functions). What happens next is up to
the control flags. The samples in conf/pam.d use
`auth [success=done default=die] pam_wif.so` with nothing after it that
could grant (sudo, sshd; su after pam_rootok), and `account required
pam_wif.so`: a failing line dies, so the stack fails. These tests run
each sample with pam_wif.so replaced by a missing file, and by a module
whose DT_NEEDED library is missing, through pamtester and temporary
/etc/pam.d services (root only), and require failure. Two controls show
that the harness can see success: the same adapted samples with the
working module and a valid token succeed, and a stack that puts the
missing module as `sufficient` before pam_permit.so succeeds too, which
is why the samples never do that. The pam-auth-update profile
(`[success=end default=ignore]` ahead of pam_unix) falls through to the
password when the module is missing: no weaker than without pam_wif.

Usage: test_missing_module.py --module SO --module-dep SO --deps DIR --samples DIR
       --keys DIR --tmp DIR [unittest args]. Exit 77 (skipped) without
root. WIF_MISSING_PRELOAD (sanitizer builds) is preloaded into pamtester.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import jwt

ARGS = None
MISSING = "/nonexistent/pam_wif.so"
ISS = "https://issuer.example/h7"
AUD = "h7-aud"
PERMIT = None


def find_permit():
    for pattern in ("/lib/*/security/pam_permit.so",
                    "/usr/lib/*/security/pam_permit.so",
                    "/lib*/security/pam_permit.so",
                    "/usr/lib*/security/pam_permit.so"):
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    return None


def mint():
    now = int(time.time())
    with open(os.path.join(ARGS.keys, "rs256.key.pem"), "rb") as f:
        return jwt.encode({"iss": ISS, "aud": AUD, "sub": "workload-h7",
                           "iat": now, "exp": now + 600}, f.read(),
                          algorithm="RS256", headers={"kid": "rs256"})


def common_auth(module, conf=None):
    """The common-auth that pam-auth-update writes from
    packaging/pam-configs/wif (`success=end` becomes a jump past the
    password block), followed by the wif account line."""
    arg = " config=" + conf if conf else ""
    return ("auth [success=2 default=ignore] %s%s\n"
            "auth [success=1 default=ignore] pam_unix.so nullok\n"
            "auth requisite pam_deny.so\n"
            "auth required pam_permit.so\n"
            "account required %s%s\n" % (module, arg, module, arg))


def sample(name):
    with open(os.path.join(ARGS.samples, name)) as f:
        return f.read()


def adapt(text, module, conf=None):
    """The sample's active lines with pam_wif.so replaced by module (and
    config= added when conf is given); comments dropped."""
    arg = " config=" + conf if conf else ""
    out = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].rstrip()
        if not line:
            continue
        out.append(re.sub(r"(?<![\w/])pam_wif\.so\b", module + arg, line))
    return "\n".join(out) + "\n"


class MissingModuleTest(unittest.TestCase):
    """pamtester through /etc/pam.d/<temporary service> (root only)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(dir=ARGS.tmp, prefix="h7-")
        os.chmod(cls.dir, 0o755)
        shutil.copy(os.path.join(ARGS.keys, "jwks.json"),
                    os.path.join(cls.dir, "jwks.json"))
        os.chmod(os.path.join(cls.dir, "jwks.json"), 0o644)
        cls.conf = os.path.join(cls.dir, "pam_wif.conf")
        with open(os.path.join(cls.dir, "pam_wif.map"), "w") as f:
            f.write("h7 user workload-h7 nobody\n")
        with open(cls.conf, "w") as f:
            f.write("[global]\nmap_file = %s/pam_wif.map\n\n"
                    "[provider h7]\nissuer = %s\naudience = %s\n"
                    "jwks_file = %s/jwks.json\n" % (cls.dir, ISS, AUD,
                                                   cls.dir))
        for name in ("pam_wif.conf", "pam_wif.map"):
            os.chmod(os.path.join(cls.dir, name), 0o644)
        cls.services = []

    @classmethod
    def tearDownClass(cls):
        for path in cls.services:
            if os.path.exists(path):
                os.unlink(path)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def service(self, text):
        name = "pam_wif_h7_%d_%d" % (os.getpid(), len(self.services))
        path = os.path.join("/etc/pam.d", name)
        with open(path, "w") as f:
            f.write(text)
        self.services.append(path)
        return name

    def pamtester(self, text, *ops, user="nobody", answer="", as_user=None,
                  libpath=None):
        name = self.service(text)
        env = dict(os.environ)
        if os.environ.get("WIF_MISSING_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["WIF_MISSING_PRELOAD"]
        if libpath:
            env["LD_LIBRARY_PATH"] = libpath
        cmd = ["pamtester", name, user] + list(ops)
        if as_user is not None:
            cmd = ["setpriv", "--reuid", str(as_user), "--regid",
                   str(as_user), "--clear-groups", "--"] + cmd
        r = subprocess.run(cmd, input=answer, capture_output=True, text=True,
                           timeout=60, env=env)
        return r.returncode, r.stdout + r.stderr

    def assert_fails(self, text, *ops, **kw):
        rc, out = self.pamtester(text, *ops, answer=mint() + "\n", **kw)
        self.assertNotEqual(rc, 0, "stack succeeded:\n%s%s" % (text, out))
        self.assertNotIn("successfully", out)
        # libpam's code for a line whose module did not load: the failure
        # is the missing module's, not some other part of the stack's.
        self.assertIn("Module is unknown", out)
        return out

    # -- controls: the harness sees success when there is one ----------

    def test_control_samples_work_with_the_module(self):
        for name in ("sshd", "sudo"):
            text = adapt(sample(name), ARGS.module, self.conf)
            rc, out = self.pamtester(text, "authenticate", "acct_mgmt",
                                     answer=mint() + "\n")
            self.assertEqual(rc, 0, "%s:\n%s%s" % (name, text, out))
        rc, out = self.pamtester(adapt(sample("su"), ARGS.module, self.conf),
                                 "authenticate", "acct_mgmt",
                                 answer=mint() + "\n", as_user=65534)
        self.assertEqual(rc, 0, out)
        rc, out = self.pamtester(common_auth(ARGS.module, self.conf),
                                 "authenticate", "acct_mgmt",
                                 answer=mint() + "\n")
        self.assertEqual(rc, 0, out)

    def test_control_dependency_found(self):
        text = adapt(sample("sshd"), ARGS.module_dep, self.conf)
        rc, out = self.pamtester(text, "authenticate", "acct_mgmt",
                                 answer=mint() + "\n", libpath=ARGS.deps)
        self.assertEqual(rc, 0, out)

    def test_h7_contrast_sufficient_then_permit(self):
        # Not a shipped stack: shows that only the control flags make a
        # missing module fail closed (the FreeBSD advisory's fail-open).
        rc, out = self.pamtester("auth sufficient %s\nauth required %s\n"
                                 % (MISSING, PERMIT), "authenticate")
        self.assertEqual(rc, 0, out)

    # -- H7: missing module or dependency fails closed ----------------

    def test_h7_done_die_alone(self):
        self.assert_fails("auth [success=done default=die] %s\n" % MISSING,
                          "authenticate")

    def test_h7_sshd_sample_missing_module(self):
        text = adapt(sample("sshd"), MISSING, self.conf)
        self.assert_fails(text, "authenticate")
        self.assert_fails(text, "acct_mgmt")
        self.assert_fails(text, "authenticate", "acct_mgmt", "open_session")

    def test_h7_sudo_sample_missing_module(self):
        text = adapt(sample("sudo"), MISSING, self.conf)
        self.assert_fails(text, "authenticate")
        self.assert_fails(text, "acct_mgmt")

    def test_h7_su_sample_missing_module(self):
        # As a user: for root, pam_rootok.so (sufficient) decides first.
        text = adapt(sample("su"), MISSING, self.conf)
        self.assert_fails(text, "authenticate", as_user=65534)
        self.assert_fails(text, "acct_mgmt", as_user=65534)

    def test_h7_pam_auth_update_profile_missing_module(self):
        # default=ignore: the login falls through to pam_unix, which the
        # token is not the password for (nobody has none): no weaker than
        # a stack without pam_wif. The failure is pam_unix's here.
        for module in (MISSING, ARGS.module_dep):
            text = common_auth(module, self.conf)
            rc, out = self.pamtester(text, "authenticate",
                                     answer=mint() + "\n")
            self.assertNotEqual(rc, 0, out)
            self.assertIn("Authentication failure", out)
            self.assert_fails(text, "acct_mgmt")

    def test_h7_sshd_sample_missing_dependency(self):
        text = adapt(sample("sshd"), ARGS.module_dep, self.conf)
        self.assert_fails(text, "authenticate")
        self.assert_fails(text, "acct_mgmt")

    def test_h7_sudo_sample_missing_dependency(self):
        text = adapt(sample("sudo"), ARGS.module_dep, self.conf)
        self.assert_fails(text, "authenticate", "acct_mgmt")


def main():
    global ARGS, PERMIT
    p = argparse.ArgumentParser()
    for a in ("--module", "--module-dep", "--deps", "--samples", "--keys",
              "--tmp"):
        p.add_argument(a, required=True)
    ARGS, rest = p.parse_known_args()
    if os.geteuid() != 0:
        print("H7 needs root (services in /etc/pam.d): skipped")
        sys.exit(77)
    for tool in ("pamtester", "setpriv"):
        if shutil.which(tool) is None:
            print("%s is not installed" % tool)
            sys.exit(1)
    PERMIT = find_permit()
    if PERMIT is None:
        print("pam_permit.so not found")
        sys.exit(1)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
