# SPDX-License-Identifier: Apache-2.0
"""A private, real sshd on loopback that authenticates with pam_wif.

Used by the end-to-end tests and by the demo. Everything it creates is
named with a random suffix and removed by close(), also after a failure:

  - a root-only work directory under /run (config, mapping, cache, keys);
  - the loopback HTTPS test identity provider (tests/tools/test_idp.py);
  - a PAM service file /etc/pam.d/wif-e2e-XXXX using the built module;
  - local accounts for the mapped workloads;
  - sshd started through a symlink named after that PAM service (Debian's
    sshd uses its program name as the PAM service), on 127.0.0.1;
  - a syslog receiver when the machine has no /dev/log.

Needs root. Nothing is installed and nothing outside these names changes.
The root-only parts (work directory, PAM services, accounts, syslog
receiver, teardown) are tests/tools/rootenv.py, shared with the other
suites that run as root.
"""
import os
import secrets
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import mint_token  # noqa: E402
import rootenv  # noqa: E402
from rootenv import PYTHON, free_port, run  # noqa: E402

AUDIENCE = "api://pam-wif-e2e"
SSHD = "/usr/sbin/sshd"


class Host(rootenv.RootEnv):
    """The admin host: IdP, config, mapping, accounts, PAM service, sshd."""

    def __init__(self, module, wifctl, accounts=("db", "ro", "other"),
                 log=lambda msg: None):
        super().__init__()
        self.module = os.path.abspath(module)
        self.wifctl = os.path.abspath(wifctl)
        self.log = log
        self.tag = secrets.token_hex(3)
        self.service = "wif-e2e-" + self.tag
        self.sshd = None
        self.users = {}
        self.pam_file = None
        self.account_roles = accounts

    # ---- setup ----

    def _open(self):
        if os.geteuid() != 0:
            raise PermissionError("the end-to-end host needs root")
        self.make_dir("/run", "pam_wif_e2e.", 0o700)
        self.log("making signing keys")
        self.keys = self.make_keys("keys")
        self._start_syslog()
        self.log("starting the identity provider")
        self.start_idp(self.keys, os.path.join(self.dir, "idp"),
                       ("rs256", "es256"))
        self.issuer = self.idp.issuer("/tenant")
        self.untrusted_issuer = self.idp.issuer("/untrusted")
        for role in self.account_roles:
            self.users[role] = self.add_account(
                "wif%s%s" % (role, self.tag), "pam_wif e2e (temporary)")
        self._write_config()
        self._write_pam_service()
        self._start_sshd()

    def _start_syslog(self):
        self.start_syslog(os.path.join(self.dir, "syslog"))

    def _write_config(self):
        self.mkdir("cache", 0o700)
        self.map_file = self.write("pam_wif.map", (
            "# provider  type  identifier  accounts\n"
            "idp-user  user  workload-db  {db}\n"
            "idp-user  user  workload-multi  {db},{ro}\n"
            "idp-group group  5e0c2b7d-readers  {ro}\n").format(**self.users))
        self.config = self.write("pam_wif.conf", (
            "[global]\n"
            "map_file = {map}\n"
            "cache_dir = {cache}\n"
            "http_timeout = 5\n"
            "log_claims = iss sub\n"
            "\n"
            "[provider idp-user]\n"
            "issuer = {iss}\n"
            "audience = {aud}\n"
            "algorithms = RS256 ES256\n"
            "ca_file = {ca}\n"
            "\n"
            "[provider idp-group]\n"
            "issuer = {iss}/groups\n"
            "audience = {aud}\n"
            "authorization = group\n"
            "algorithms = RS256 ES256\n"
            "ca_file = {ca}\n").format(
                map=self.map_file, cache=os.path.join(self.dir, "cache"),
                iss=self.issuer, aud=AUDIENCE, ca=self.idp.ca_file))

    def module_args(self):
        """The module and the arguments every test service uses: the
        config, and the build tree's fetch helper (WIF_HELPER) when set."""
        helper = os.environ.get("WIF_HELPER")
        return "%s config=%s%s" % (self.module, self.config,
                                   " helper=" + helper if helper else "")

    def _write_pam_service(self):
        args = self.module_args()
        self.pam_file = self.add_pam_service(self.service, (
            "# pam_wif end-to-end test service (temporary)\n"
            "auth     [success=done default=die] %s\n"
            "account  required %s\n"
            "session  optional %s\n" % (args, args, args)))

    def _start_sshd(self):
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        key = os.path.join(self.dir, "ssh_host_ed25519_key")
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
        # sshd re-executes itself and names its PAM service after argv[0].
        self.sshd_link = os.path.join(self.dir, self.service)
        os.symlink(SSHD, self.sshd_link)
        self.sshd_log = os.path.join(self.dir, "sshd.log")
        # The free port may be taken by another program before sshd binds
        # it (other suites run alongside): then again on another one.
        for attempt in range(3):
            if self._try_sshd(key, free_port()):
                return
        raise RuntimeError("sshd did not start: " +
                           open(self.sshd_log).read())

    def _try_sshd(self, key, port):
        """True once sshd listens on port; False when it could not bind."""
        self.port = port
        cfg = self.write("sshd_config", (
            "Port {port}\n"
            "ListenAddress 127.0.0.1\n"
            "HostKey {key}\n"
            "PidFile {dir}/sshd.pid\n"
            "UsePAM yes\n"
            "KbdInteractiveAuthentication yes\n"
            "PasswordAuthentication no\n"
            "PubkeyAuthentication no\n"
            "AuthenticationMethods keyboard-interactive\n"
            "PermitRootLogin no\n"
            "AuthorizedKeysFile none\n"
            "UseDNS no\n"
            "PrintMotd no\n"
            "MaxAuthTries 2\n"
            "LoginGraceTime 60\n"
            "LogLevel VERBOSE\n").format(port=self.port, key=key,
                                         dir=self.dir))
        with open(self.sshd_log, "w") as log:
            self.sshd = subprocess.Popen(
                [self.sshd_link, "-D", "-e", "-f", cfg],
                stdout=subprocess.DEVNULL, stderr=log)
        # sshd says when it listens (a connection could reach whoever else
        # holds the port).
        ready = "Server listening on 127.0.0.1 port %d." % self.port
        deadline = time.monotonic() + 30
        while True:
            with open(self.sshd_log) as log:
                text = log.read()
            if ready in text:
                return True
            if self.sshd.poll() is not None:
                if "Address already in use" in text:
                    return False
                raise RuntimeError("sshd did not start: " + text)
            if time.monotonic() > deadline:
                raise RuntimeError("sshd did not start: " + text)
            time.sleep(0.1)

    # ---- use ----

    def token(self, name, sub, iss=None, aud=AUDIENCE, kid="rs256",
              groups=None, ttl=600, age=0, size=None):
        now = int(time.time()) - age
        claims = {"iss": iss or self.issuer, "aud": aud, "sub": sub,
                  "iat": now, "nbf": now, "exp": now + ttl}
        if groups:
            claims["groups"] = list(groups)
        text = mint_token.mint(self.keys, kid, claims, size)
        return self.write("token-" + name, text), text

    def ssh(self, user, source, command="true", extra_env=None, timeout=60):
        """Logs in as user through `wifctl ssh --source SOURCE`."""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.dir,
               "LANG": "C"}
        env.update(extra_env or {})
        cmd = ([self.wifctl, "ssh", "--source", source, "--no-cache", "--"] +
               self._ssh_options() + ["%s@127.0.0.1" % user, command])
        return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=timeout)

    def ssh_raw(self, user, askpass, command="true", timeout=60):
        """Logs in with a given SSH_ASKPASS program instead of wifctl."""
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": self.dir,
               "LANG": "C", "SSH_ASKPASS": askpass,
               "SSH_ASKPASS_REQUIRE": "force"}
        cmd = ["ssh"] + self._ssh_options() + ["%s@127.0.0.1" % user, command]
        return subprocess.run(cmd, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env, timeout=timeout)

    def _ssh_options(self):
        return ["-F", "/dev/null", "-p", str(self.port),
                "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "NumberOfPasswordPrompts=1",
                "-o", "PreferredAuthentications=keyboard-interactive",
                "-o", "ConnectTimeout=10"]

    def fake_metadata(self, mode, subject, lifetime=600):
        """Starts tests/tools/fake_metadata.py; returns (process, base URL).
        Its tokens come from this host's issuer and keys."""
        proc = subprocess.Popen(
            [PYTHON, os.path.join(ROOT, "tests/tools/fake_metadata.py"),
             "--mode", mode, "--keys", self.keys, "--kid", "rs256",
             "--issuer", self.issuer, "--subject", subject, "--lifetime",
             str(lifetime)], stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().split()
        if len(line) != 2 or line[0] != "PORT":
            proc.kill()
            raise RuntimeError("fake_metadata.py did not start")
        return proc, "http://127.0.0.1:%s" % line[1]

    def root_script(self, name, body, mode=0o755):
        """An executable owned by root in the root-only work directory."""
        return self.write(name, "#!/bin/sh\n" + body, mode)

    def pam_service(self, name, args):
        """A further PAM service (auth + account) with extra module
        arguments; removed by close()."""
        path = self.add_pam_service(
            "%s-%s" % (self.service, name),
            "auth     required %s %s\naccount  required %s\n" %
            (self.module_args(), args, self.module_args()))
        return os.path.basename(path)

    def pamtester(self, service, user, timeout=60):
        return subprocess.run(["pamtester", service, user, "authenticate",
                               "acct_mgmt"], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=timeout)

    # ---- teardown ----

    def _stop_services(self):
        rootenv.stop(self.sshd)
        self.sshd = None
        self.users = {}
