#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""wifctl token / askpass / ssh against loopback fakes of the token services.

Every token a fake hands out is signed with the test keys, and each test
that obtains one checks it with `wifctl verify --issuer --jwks`, so the
whole chain (source -> token -> validation) is exercised. Case ids (K1, L2,
A10, ...) refer to shared/SECURITY-CASES.md.

Usage: test_sources.py --wifctl PATH --keys DIR --fake PATH --tmp DIR
       [unittest args]
"""
import argparse
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import unittest

WIFCTL = KEYS = FAKE = TMP_PARENT = None
ISS = "https://issuer.example.test"
AUD = "api://wif-test"
PART_MAX = 999  # token bytes per askpass answer (plus the `\` marker)


class Fake:
    """One fake service on 127.0.0.1, killed when the test ends."""

    def __init__(self, test, mode, *args, tls_dir=None):
        self.log = os.path.join(test.tmp, "fake-%s.log" % mode)
        cmd = [sys.executable, FAKE, "--mode", mode, "--keys", KEYS,
               "--lifetime", "60", "--log", self.log] + list(args)
        if tls_dir:
            cmd += ["--tls-dir", tls_dir]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
        test.addCleanup(self.stop)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("PORT "), line
        self.port = int(line.split()[1])
        scheme = "https" if tls_dir else "http"
        self.url = "%s://127.0.0.1:%d" % (scheme, self.port)

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()

    def requests(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log) as f:
            return [json.loads(l) for l in f]


class Base(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sources-", dir=TMP_PARENT)
        os.chmod(self.tmp, 0o700)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.runtime = os.path.join(self.tmp, "run")
        os.mkdir(self.runtime, 0o700)
        # Only what the tests set: no proxies, no cloud variables.
        self.env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": self.runtime}

    def wifctl(self, *args, env=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        r = subprocess.run([WIFCTL] + list(args), capture_output=True,
                           env=e, timeout=timeout)
        r.out = r.stdout.decode("ascii")
        r.err = r.stderr.decode("ascii")
        return r

    def token(self, *args, env=None, timeout=60):
        return self.wifctl("token", *args, env=env, timeout=timeout)

    def assert_token(self, r, aud=AUD):
        """Exactly one line on stdout, a token wifctl verify accepts."""
        self.assertEqual(r.returncode, 0, r.err)
        self.assertTrue(r.out.endswith("\n"))
        tok = r.out[:-1]
        self.assertNotIn("\n", tok)
        v = subprocess.run(
            [WIFCTL, "verify", "--issuer", ISS, "--audience", aud,
             "--jwks", os.path.join(KEYS, "jwks.json"), tok],
            capture_output=True, timeout=30)
        self.assertEqual(v.returncode, 0, v.stdout + v.stderr)
        self.assertIn(b"decision: valid", v.stdout)
        return tok

    def write(self, name, data, mode=0o600):
        p = os.path.join(self.tmp, name)
        with open(p, "w" if isinstance(data, str) else "wb") as f:
            f.write(data)
        os.chmod(p, mode)
        return p

    def tls(self):
        d = os.path.join(self.tmp, "tls")
        return d, os.path.join(d, "ca.pem")


class AzureTest(Base):
    def test_token_verifies(self):
        f = Fake(self, "azure")
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assert_token(r)
        req = f.requests()[0]
        self.assertEqual(req["headers"]["metadata"], "true")  # K3
        self.assertEqual(req["headers"]["accept"], "application/json")
        self.assertNotIn("x-forwarded-for", req["headers"])
        self.assertEqual(req["query"]["resource"], [AUD])

    def test_endpoint_from_environment(self):
        f = Fake(self, "azure")
        r = self.token("--source", "azure", "--audience", AUD,
                       env={"WIF_AZURE_IMDS_ENDPOINT": f.url})
        self.assert_token(r)

    def test_proxy_variables_ignored(self):
        # K3: never through a proxy, whatever the environment says.
        f = Fake(self, "azure")
        bad = "http://127.0.0.1:9"
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url,
                       env={"http_proxy": bad, "HTTP_PROXY": bad,
                            "all_proxy": bad, "no_proxy": ""})
        self.assert_token(r)

    def test_retry_after_then_token(self):
        # K2: 429 with Retry-After: 1 is waited out, then 500 backs off.
        f = Fake(self, "azure", "--faults", "429:1,500")
        t0 = time.monotonic()
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assert_token(r)
        self.assertGreaterEqual(time.monotonic() - t0, 1.0)
        self.assertEqual(len(f.requests()), 3)

    def test_410_then_token(self):
        # K1 over real time: one 410, retried after 10 s.
        f = Fake(self, "azure", "--faults", "410")
        t0 = time.monotonic()
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assert_token(r)
        self.assertGreaterEqual(time.monotonic() - t0, 9.5)

    def test_400_reports_status_and_error(self):
        f = Fake(self, "azure", "--client-id", "right")
        r = self.token("--source", "azure", "--audience", AUD,
                       "--client-id", "wrong", "--endpoint", f.url)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(r.out, "")
        self.assertIn("HTTP 400", r.err)
        self.assertIn("invalid_request: Identity not found", r.err)
        self.assertEqual(len(f.requests()), 1)  # K2: no retry on 400

    def test_hang_times_out(self):
        # K6/K7: a service that never answers costs one timeout.
        f = Fake(self, "azure", "--faults", "hang*")
        t0 = time.monotonic()
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url, "--timeout", "1")
        self.assertEqual(r.returncode, 3)
        # One request, ended by the timeout; the bound only shows that it
        # did not wait for the fake (a margin for slow runs).
        self.assertIn("no answer within 1000 ms", r.err)
        self.assertEqual(len(f.requests()), 1)
        self.assertLess(time.monotonic() - t0, 20)
        self.assertEqual(r.out, "")

    def test_garbage_and_unreachable(self):
        f = Fake(self, "azure", "--faults", "garbage")
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assertEqual(r.returncode, 3)
        self.assertIn("not valid JSON", r.err)
        self.assertNotIn("not a token", r.err)  # the body is never echoed
        f.stop()
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assertEqual(r.returncode, 3)

    def test_usage_errors(self):
        r = self.token("--source", "azure")
        self.assertEqual(r.returncode, 2)
        self.assertIn("audience", r.err)
        r = self.token("--audience", AUD)
        self.assertEqual(r.returncode, 2)
        r = self.token("--source", "aws", "--audience", AUD)
        self.assertEqual(r.returncode, 2)
        r = self.token("--source", "azure", "--bogus")
        self.assertEqual(r.returncode, 2)


class AppServiceTest(Base):
    """App Service, Functions and Container Apps: IDENTITY_ENDPOINT and
    IDENTITY_HEADER, api-version 2019-08-01."""
    SECRET = "app-svc-header-secret"

    def appenv(self, f, header=SECRET):
        return {"IDENTITY_ENDPOINT": f.url + "/msi/token",
                "IDENTITY_HEADER": header}

    def test_token_verifies(self):
        f = Fake(self, "appservice")
        r = self.token("--source", "azure", "--audience", AUD,
                       env=self.appenv(f))
        self.assert_token(r)
        req = f.requests()[0]
        self.assertEqual(req["headers"]["x-identity-header"], self.SECRET)
        self.assertEqual(req["headers"]["accept"], "application/json")
        self.assertEqual(req["query"]["api-version"], ["2019-08-01"])
        self.assertEqual(req["query"]["resource"], [AUD])

    def test_selectors(self):
        f = Fake(self, "appservice", "--client-id", "cid")
        for opt, param in (("--client-id", "client_id"),
                           ("--object-id", "principal_id"),
                           ("--msi-res-id", "mi_res_id")):
            value = "cid" if opt == "--client-id" else "/sub/x/" + param
            r = self.token("--source", "azure", "--audience", AUD, opt,
                           value, "--no-cache", env=self.appenv(f))
            self.assert_token(r)
            self.assertEqual(f.requests()[-1]["query"][param], [value])
        r = self.token("--source", "azure", "--audience", AUD,
                       "--client-id", "other", env=self.appenv(f))
        self.assertEqual(r.returncode, 3)
        self.assertIn("Identity not found", r.err)

    def test_wrong_header_is_refused_and_not_echoed(self):
        f = Fake(self, "appservice")
        r = self.token("--source", "azure", "--audience", AUD,
                       env=self.appenv(f, "wrong-secret-value"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("HTTP 401", r.err)
        self.assertNotIn("wrong-secret-value", r.err)
        self.assertEqual(r.out, "")

    def test_endpoint_option_means_imds(self):
        imds = Fake(self, "azure")
        f = Fake(self, "appservice")
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", imds.url, env=self.appenv(f))
        self.assert_token(r)
        self.assertEqual(f.requests(), [])
        self.assertEqual(len(imds.requests()), 1)

    def test_arc_and_unsafe_endpoints_refused(self):
        # Azure Arc sets IDENTITY_ENDPOINT alone (a challenge-file flow
        # pam_wif does not support): a clear refusal, not a hang on IMDS.
        r = self.token("--source", "azure", "--audience", AUD,
                       env={"IDENTITY_ENDPOINT":
                            "http://localhost:40342/metadata/identity/"
                            "oauth2/token"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("Azure Arc", r.err)
        # The secret header never goes over plain http off this machine.
        for url in ("http://example.invalid/msi/token",
                    "http://127.0.0.1.example.invalid/msi/token",
                    "http://user@127.0.0.1:9/msi/token",
                    "ftp://127.0.0.1/msi/token"):
            r = self.token("--source", "azure", "--audience", AUD,
                           env={"IDENTITY_ENDPOINT": url,
                                "IDENTITY_HEADER": "x"})
            self.assertEqual(r.returncode, 2, url)
            self.assertIn("IDENTITY_ENDPOINT must be", r.err)
        r = self.token("--source", "azure", "--audience", AUD,
                       env={"IDENTITY_ENDPOINT": "http://127.0.0.1:9/t",
                            "IDENTITY_HEADER": "a\x01b"})
        self.assertEqual(r.returncode, 2)
        self.assertIn("IDENTITY_HEADER must be", r.err)


class GcpTest(Base):
    def test_service_account(self):
        sa = "deploy+ci@my-project.iam.gserviceaccount.com"
        f = Fake(self, "gcp", "--service-account", sa)
        r = self.token("--source", "gcp", "--audience", AUD,
                       "--endpoint", f.url, "--service-account", sa)
        tok = self.assert_token(r)
        req = f.requests()[0]
        self.assertEqual(req["path"], "/computeMetadata/v1/instance/"
                         "service-accounts/deploy%2Bci%40my-project.iam."
                         "gserviceaccount.com/identity")
        import jwt
        self.assertEqual(jwt.decode(tok, options={
            "verify_signature": False})["email"], sa)
        # Another account is another cache entry, not the same token.
        r = self.token("--source", "gcp", "--audience", AUD,
                       "--endpoint", f.url)
        self.assert_token(r)
        self.assertEqual(len(f.requests()), 2)
        for bad in ("../../token", "a/b@c", "a@b@c", "@x", "x y@z",
                    "a" * 250 + "@x.io", "a%40b"):
            r = self.token("--source", "gcp", "--audience", AUD,
                           "--endpoint", f.url, "--service-account", bad)
            self.assertEqual(r.returncode, 2, bad)
            self.assertIn("service account", r.err)
        self.assertEqual(len(f.requests()), 2)

    def test_token_verifies(self):
        f = Fake(self, "gcp", "--faults", "503")
        r = self.token("--source", "gcp", "--audience", AUD,
                       "--endpoint", f.url, "--format-full")
        self.assert_token(r)
        reqs = f.requests()
        self.assertEqual(len(reqs), 2)
        self.assertEqual(reqs[-1]["headers"]["metadata-flavor"], "Google")
        self.assertEqual(reqs[-1]["query"]["format"], ["full"])

    def test_endpoint_from_environment(self):
        f = Fake(self, "gcp")
        r = self.token("--source", "gcp", "--audience", AUD,
                       env={"WIF_GCP_METADATA_ENDPOINT": f.url})
        self.assert_token(r)

    def test_response_without_flavor(self):
        # K4: an answer lacking Metadata-Flavor: Google is refused.
        f = Fake(self, "gcp", "--faults", "noflavor")
        r = self.token("--source", "gcp", "--audience", AUD,
                       "--endpoint", f.url)
        self.assertEqual(r.returncode, 3)
        self.assertIn("Metadata-Flavor", r.err)
        self.assertEqual(r.out, "")


class GithubTest(Base):
    def test_token_verifies(self):
        d, ca = self.tls()
        f = Fake(self, "github", tls_dir=d)
        env = {"ACTIONS_ID_TOKEN_REQUEST_URL":
               f.url + "/idtoken?api-version=2.0",
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token"}
        r = self.token("--source", "github", "--audience", AUD,
                       "--ca-file", ca, env=env)
        self.assert_token(r)
        self.assertEqual(f.requests()[0]["headers"]["authorization"],
                         "bearer gh-request-token")

    def test_missing_environment(self):
        r = self.token("--source", "github", "--audience", AUD)
        self.assertEqual(r.returncode, 2)
        self.assertIn("ACTIONS_ID_TOKEN_REQUEST_URL", r.err)

    def test_bad_request_token(self):
        d, ca = self.tls()
        f = Fake(self, "github", tls_dir=d)
        env = {"ACTIONS_ID_TOKEN_REQUEST_URL":
               f.url + "/idtoken?api-version=2.0",
               "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "nope"}
        r = self.token("--source", "github", "--audience", AUD,
                       "--ca-file", ca, env=env)
        self.assertEqual(r.returncode, 3)
        self.assertIn("HTTP 401", r.err)
        self.assertIn("Bad credentials", r.err)
        self.assertNotIn("nope", r.err)


class ClientCredentialsTest(Base):
    def make_cert(self, fname="app"):
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID
        import datetime
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app")])
        t = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name)
                .issuer_name(name).public_key(key.public_key())
                .serial_number(1)
                .not_valid_before(t - datetime.timedelta(minutes=1))
                .not_valid_after(t + datetime.timedelta(days=1))
                .sign(key, hashes.SHA256()))
        c = self.write(fname + ".pem", cert.public_bytes(
            serialization.Encoding.PEM), 0o644)
        k = self.write(fname + ".key", key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), 0o600)
        return c, k

    def test_secret(self):
        d, ca = self.tls()
        f = Fake(self, "oauth", "--client-id", "cid", "--client-secret",
                 "s3cret", tls_dir=d)
        s = self.write("secret", "s3cret\n")
        r = self.token("--source", "client-credentials", "--audience", AUD,
                       "--client-id", "cid", "--client-secret-file", s,
                       "--token-endpoint", f.url + "/oauth2/v2.0/token",
                       "--ca-file", ca)
        self.assert_token(r)
        self.assertEqual(f.requests()[0]["form"]["scope"],
                         [AUD + "/.default"])

    def test_certificate_assertion(self):
        # RFC 7523: the fake checks alg, x5t#S256, aud, iss = sub, jti, exp.
        d, ca = self.tls()
        c, k = self.make_cert()
        f = Fake(self, "oauth", "--client-id", "cid", "--client-cert", c,
                 tls_dir=d)
        r = self.token("--source", "client-credentials", "--audience", AUD,
                       "--client-id", "cid", "--client-cert", c,
                       "--client-key", k,
                       "--token-endpoint", f.url + "/oauth2/v2.0/token",
                       "--ca-file", ca)
        self.assert_token(r)
        form = f.requests()[0]["form"]
        self.assertNotIn("client_secret", form)
        self.assertEqual(form["client_assertion_type"],
                         ["urn:ietf:params:oauth:client-assertion-type:"
                          "jwt-bearer"])

    def test_wrong_key_for_certificate(self):
        d, ca = self.tls()
        c, _ = self.make_cert()
        _, k2 = self.make_cert("other")
        r = self.token("--source", "client-credentials", "--audience", AUD,
                       "--client-id", "cid", "--client-cert", c,
                       "--client-key", k2,
                       "--token-endpoint", "https://127.0.0.1:9/t",
                       "--ca-file", ca)
        self.assertEqual(r.returncode, 2)
        self.assertIn("does not match", r.err)

    def federated(self, sub, iss="https://oidc.aks.example/tenant/x",
                  aud="api://AzureADTokenExchange", lifetime=3600):
        import jwt
        with open(os.path.join(KEYS, "rs256.key.pem"), "rb") as fh:
            key = fh.read()
        t = int(time.time())
        return jwt.encode({"iss": iss, "sub": sub, "aud": aud, "iat": t,
                           "exp": t + lifetime}, key, algorithm="RS256",
                          headers={"kid": "rs256"})

    def test_federated_assertion(self):
        # Entra workload identity federation: the client assertion is the
        # workload's own JWT (AKS's AZURE_FEDERATED_TOKEN_FILE), read anew
        # on every fetch.
        d, ca = self.tls()
        sub = "system:serviceaccount:ns:app"
        f = Fake(self, "oauth", "--client-id", "cid", "--federated-issuer",
                 "https://oidc.aks.example/tenant/x", "--federated-subject",
                 sub, tls_dir=d)
        a = self.write("fed-token", self.federated(sub) + "\n", 0o644)
        args = ["--source", "client-credentials", "--audience", AUD,
                "--client-id", "cid", "--client-assertion-file", a,
                "--token-endpoint", f.url + "/oauth2/v2.0/token",
                "--ca-file", ca]
        self.assert_token(self.token(*args))
        form = f.requests()[0]["form"]
        self.assertEqual(form["client_assertion_type"],
                         ["urn:ietf:params:oauth:client-assertion-type:"
                          "jwt-bearer"])
        with open(a) as fh:
            self.assertEqual(form["client_assertion"], [fh.read().strip()])
        self.assertEqual(form["scope"], [AUD + "/.default"])
        # The file is read anew: a token for another subject is refused.
        self.write("fed-token", self.federated("system:serviceaccount:x:y"))
        r = self.token("--no-cache", *args)
        self.assertEqual(r.returncode, 3)
        self.assertIn("No matching federated identity", r.err)
        # Wrong audience, wrong issuer.
        self.write("fed-token", self.federated(sub, aud="api://other"))
        r = self.token("--no-cache", *args)
        self.assertEqual(r.returncode, 3)
        self.assertIn("AADSTS700211", r.err)
        self.write("fed-token", self.federated(sub, iss="https://evil"))
        r = self.token("--no-cache", *args)
        self.assertEqual(r.returncode, 3)
        self.assertEqual(len(f.requests()), 4)

    def test_federated_assertion_file_errors(self):
        d, ca = self.tls()
        base = ["--source", "client-credentials", "--audience", AUD,
                "--client-id", "cid", "--token-endpoint",
                "https://127.0.0.1:9/oauth2/v2.0/token", "--ca-file", ca]
        big = self.write("big", "a" * 20000)
        r = self.token(*base, "--client-assertion-file", big)
        self.assertEqual(r.returncode, 3)
        self.assertIn("larger than a token", r.err)
        r = self.token(*base, "--client-assertion-file",
                       os.path.join(self.tmp, "missing"))
        self.assertEqual(r.returncode, 3)
        self.assertIn("assertion", r.err)
        sp = self.write("sp", "bad token\n")
        r = self.token(*base, "--client-assertion-file", sp)
        self.assertEqual(r.returncode, 3)
        s = self.write("secret", "s\n")
        r = self.token(*base, "--client-assertion-file", big,
                       "--client-secret-file", s)
        self.assertEqual(r.returncode, 2)
        self.assertIn("give one of", r.err)

    def test_auth0_audience(self):
        # A server that is not Entra ID: no AUD/.default scope; the API is
        # named by --token-audience (Auth0's audience parameter).
        d, ca = self.tls()
        f = Fake(self, "oauth", "--client-id", "cid", "--client-secret",
                 "s3cret", "--api-audience", AUD, tls_dir=d)
        s = self.write("secret", "s3cret\n")
        base = ["--source", "client-credentials", "--client-id", "cid",
                "--client-secret-file", s, "--ca-file", ca,
                "--token-endpoint", f.url + "/oauth/token"]
        self.assert_token(self.token(*base, "--token-audience", AUD))
        form = f.requests()[0]["form"]
        self.assertEqual(form["audience"], [AUD])
        self.assertNotIn("scope", form)
        r = self.token(*base, "--token-audience", "api://not-enabled")
        self.assertEqual(r.returncode, 3)
        self.assertIn("access_denied", r.err)
        # --audience alone is not sent to a server that is not Entra's.
        r = self.token(*base, "--audience", AUD, "--no-cache")
        self.assertEqual(r.returncode, 3)
        self.assertIn("not Entra ID's", r.err)
        form = f.requests()[-1]["form"]
        self.assertNotIn("scope", form)
        self.assertNotIn("audience", form)

    def test_resource_parameter(self):
        d, ca = self.tls()
        f = Fake(self, "oauth", "--client-id", "cid", "--client-secret",
                 "s3cret", tls_dir=d)
        s = self.write("secret", "s3cret\n")
        r = self.token("--source", "client-credentials", "--client-id", "cid",
                       "--client-secret-file", s, "--ca-file", ca,
                       "--token-endpoint", f.url + "/oauth2/v2.0/token",
                       "--resource", AUD)
        self.assert_token(r)
        form = f.requests()[0]["form"]
        self.assertEqual(form["resource"], [AUD])
        self.assertNotIn("scope", form)

    def test_errors(self):
        d, ca = self.tls()
        f = Fake(self, "oauth", "--client-id", "cid", "--client-secret",
                 "s3cret", tls_dir=d)
        s = self.write("secret", "wrong\n")
        args = ["--source", "client-credentials", "--audience", AUD,
                "--client-id", "cid", "--client-secret-file", s,
                "--token-endpoint", f.url + "/oauth2/v2.0/token",
                "--ca-file", ca]
        r = self.token(*args)
        self.assertEqual(r.returncode, 3)
        self.assertIn("HTTP 401", r.err)
        self.assertIn("invalid_client", r.err)
        self.assertNotIn("wrong", r.err)
        os.chmod(s, 0o644)
        r = self.token(*args)
        self.assertEqual(r.returncode, 2)
        self.assertIn("chmod 600", r.err)


class FileExecTest(Base):
    def jwt(self, fake_mode="azure"):
        f = Fake(self, fake_mode)
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url, "--no-cache")
        return self.assert_token(r)

    def test_file(self):
        tok = self.jwt()
        p = self.write("tok", tok + "\n")  # A10: one newline is framing
        self.assertEqual(self.assert_token(
            self.token("--source", "file:" + p)), tok)
        os.chmod(p, 0o644)
        r = self.token("--source", "file:" + p)
        self.assert_token(r)
        self.assertIn("readable by others", r.err)
        self.write("tok2", tok + "\n\n")
        r = self.token("--source", "file:" + os.path.join(self.tmp, "tok2"))
        self.assertEqual(r.returncode, 3)

    def test_k8s_chain(self):
        tok = self.jwt()
        a = self.write("azure-fed", tok)
        b = self.write("aws", "not.the.one")
        r = self.token("--source", "k8s", env={
            "AZURE_FEDERATED_TOKEN_FILE": a,
            "AWS_WEB_IDENTITY_TOKEN_FILE": b})
        self.assertEqual(self.assert_token(r), tok)
        r = self.token("--source", "k8s",
                       env={"AWS_WEB_IDENTITY_TOKEN_FILE": b})
        self.assertEqual(r.out, "not.the.one\n")

    def test_exec_json(self):
        tok = self.jwt()
        helper = self.write("helper", "#!/bin/sh\n"
                            "printf '{\"access_token\":\"%s\",\"expires_in\""
                            ":3600}' " + tok + "\n", 0o755)
        r = self.token("--source", "exec:" + helper, "--audience", AUD)
        self.assertEqual(self.assert_token(r), tok)

    def test_exec_failure_and_timeout(self):
        helper = self.write("fail", "#!/bin/sh\necho nope >&2\nexit 4\n",
                            0o755)
        r = self.token("--source", "exec:" + helper)
        self.assertEqual(r.returncode, 3)
        self.assertIn("nope", r.err)  # stderr passed through
        self.assertIn("status 4", r.err)
        hang = self.write("hang", "#!/bin/sh\nsleep 30\n", 0o755)
        t0 = time.monotonic()
        r = self.token("--source", "exec:" + hang, "--timeout", "1")
        self.assertEqual(r.returncode, 3)
        # Did not wait for the 30 s sleep (a margin for slow runs).
        self.assertLess(time.monotonic() - t0, 20)


class CacheTest(Base):
    def args(self, f):
        return ["--source", "azure", "--audience", AUD, "--endpoint", f.url]

    def test_reuse_and_no_cache(self):
        f = Fake(self, "azure")
        t1 = self.assert_token(self.token(*self.args(f)))
        t2 = self.assert_token(self.token(*self.args(f)))
        self.assertEqual(t1, t2)
        self.assertEqual(len(f.requests()), 1)  # K8: reused
        t3 = self.assert_token(self.token("--no-cache", *self.args(f)))
        self.assertEqual(len(f.requests()), 2)
        # --no-cache neither read nor replaced the entry.
        self.assertEqual(self.assert_token(self.token(*self.args(f))), t1)
        self.assertEqual(len(f.requests()), 2)
        del t3
        d = os.path.join(self.runtime, "pam_wif")
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        files = os.listdir(d)
        self.assertEqual(len(files), 1)
        self.assertEqual(
            stat.S_IMODE(os.stat(os.path.join(d, files[0])).st_mode), 0o600)

    def test_other_audience_other_entry(self):
        f = Fake(self, "azure")
        self.assert_token(self.token(*self.args(f)))
        r = self.token("--source", "azure", "--audience", "api://other",
                       "--endpoint", f.url)
        self.assert_token(r, aud="api://other")
        self.assertEqual(len(f.requests()), 2)

    def test_expiring_token_not_reused(self):
        # A 4-minute token is inside the 5-minute margin: never reused.
        f = Fake(self, "azure", "--token-lifetime", "240")
        self.assert_token(self.token(*self.args(f)))
        self.assert_token(self.token(*self.args(f)))
        self.assertEqual(len(f.requests()), 2)

    def test_insecure_cache_dir_skipped(self):
        f = Fake(self, "azure")
        d = os.path.join(self.runtime, "pam_wif")
        os.mkdir(d, 0o755)
        os.chmod(d, 0o755)
        r = self.token(*self.args(f))
        self.assert_token(r)
        self.assertIn("not using the token cache", r.err)
        self.assertEqual(os.listdir(d), [])

    def test_tmp_fallback_name(self):
        # Without XDG_RUNTIME_DIR the cache is /tmp/pam_wif-UID; only its
        # name is checked here (tests do not write to /tmp).
        r = self.wifctl("token", "--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("/tmp/pam_wif-UID", r.out)


def askpass_parts(test, env, prompt_prefix="(alice@host) "):
    """Asks askpass for part 1, 2, ... as ssh would, until a part has no
    trailing backslash. Returns the answers."""
    answers = []
    for n in range(1, 70):
        prompt = "Workload identity token: " if n == 1 else \
            "Workload identity token (part %d): " % n
        r = test.wifctl("askpass", prompt_prefix + prompt, env=env)
        test.assertEqual(r.returncode, 0, r.err)
        test.assertTrue(r.out.endswith("\n"))
        a = r.out[:-1]
        test.assertLessEqual(len(a), 1000)
        answers.append(a)
        if not a.endswith("\\"):
            return answers
    test.fail("askpass never ended the token")


class AskpassTest(Base):
    def reassemble(self, answers):
        for a in answers[:-1]:
            self.assertTrue(a.endswith("\\"))
            self.assertEqual(len(a), PART_MAX + 1)
        self.assertFalse(answers[-1].endswith("\\"))
        return "".join(a[:-1] for a in answers[:-1]) + answers[-1]

    def run_parts(self, pad, expect_parts):
        f = Fake(self, "azure", "--pad", str(pad))
        env = {"WIF_SOURCE": "azure", "WIF_AUDIENCE": AUD,
               "WIF_ENDPOINT": f.url}
        answers = askpass_parts(self, env)
        tok = self.reassemble(answers)
        self.assertEqual(len(answers), expect_parts)
        self.assertEqual(len(f.requests()), 1)  # every part, one token
        # The same token as `wifctl token` gives from the cache.
        r = self.token("--source", "azure", "--audience", AUD,
                       "--endpoint", f.url)
        self.assertEqual(self.assert_token(r), tok)
        return tok

    def test_2500_byte_token(self):
        tok = self.run_parts(1400, 3)
        self.assertGreater(len(tok), 2 * PART_MAX)

    def test_16k_token(self):
        tok = self.run_parts(11700, 17)
        self.assertGreater(len(tok), 16 * PART_MAX)
        self.assertLessEqual(len(tok), 16384)

    def test_short_token_one_part(self):
        f = Fake(self, "azure")
        env = {"WIF_SOURCE": "azure", "WIF_AUDIENCE": AUD,
               "WIF_ENDPOINT": f.url}
        answers = askpass_parts(self, env, prompt_prefix="")
        self.assertEqual(len(answers), 1)
        self.assert_token(self.token("--source", "azure", "--audience", AUD,
                                     "--endpoint", f.url))

    def test_client_config_file(self):
        f = Fake(self, "azure")
        conf = self.write("client.conf",
                          "# token settings\nsource = azure\n"
                          "audience = %s\nendpoint = %s\n" % (AUD, f.url))
        answers = askpass_parts(self, {"WIF_CLIENT_CONFIG": conf,
                                       "WIF_SOURCE": "gcp"})
        self.assertEqual(len(answers), 1)
        self.assertEqual(len(f.requests()), 1)
        os.chmod(conf, 0o666)
        r = self.wifctl("askpass", "Workload identity token: ",
                        env={"WIF_CLIENT_CONFIG": conf})
        self.assertEqual(r.returncode, 2)
        self.write("bad.conf", "sauce = azure\n")
        r = self.wifctl("askpass", "Workload identity token: ", env={
            "WIF_CLIENT_CONFIG": os.path.join(self.tmp, "bad.conf")})
        self.assertEqual(r.returncode, 2)
        self.assertIn("bad.conf:1: unknown key", r.err)

    def test_foreign_prompts_refused(self):
        f = Fake(self, "azure")
        env = {"WIF_SOURCE": "azure", "WIF_AUDIENCE": AUD,
               "WIF_ENDPOINT": f.url}
        for p in ["Password: ",
                  "Are you sure you want to continue connecting "
                  "(yes/no/[fingerprint])? ",
                  "Workload identity token (part 1): ",
                  "Workload identity token (part 65): ",
                  "Workload identity token (part 2x): ",
                  "(a@b) Workload identity token (part 2):x"]:
            r = self.wifctl("askpass", p, env=env)
            self.assertEqual(r.returncode, 1, p)
            self.assertEqual(r.out, "")
        self.assertEqual(f.requests(), [])
        # A part beyond the token's last one.
        r = self.wifctl("askpass", "Workload identity token (part 5): ",
                        env=env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.out, "")
        r = self.wifctl("askpass")
        self.assertEqual(r.returncode, 2)


FAKE_SSH = r'''#!/usr/bin/python3
# Stands in for ssh: records its argv and environment, then answers the
# prompts through $SSH_ASKPASS exactly as ssh does (one run per prompt,
# the prompt as the only argument) and writes the reassembled token.
import json, os, subprocess, sys
out = sys.argv[-1]
parts = []
n = 1
while True:
    p = "(alice@127.0.0.1) Workload identity token%s: " % (
        "" if n == 1 else " (part %d)" % n)
    a = subprocess.run([os.environ["SSH_ASKPASS"], p], capture_output=True,
                       check=True).stdout.decode().rstrip("\n")
    if a.endswith("\\"):
        parts.append(a[:-1]); n += 1; continue
    parts.append(a); break
with open(out, "w") as f:
    json.dump({"argv": sys.argv, "token": "".join(parts), "parts": n,
               "env": {k: v for k, v in os.environ.items()
                       if k.startswith(("SSH_", "WIF_"))}}, f)
'''


FAKE_SSH_REFUSING = r'''#!/usr/bin/python3
# Stands in for ssh facing a host that refuses every token: one
# keyboard-interactive attempt per NumberOfPasswordPrompts, each asking
# askpass for the token; plus one attempt more than ssh would make, to show
# askpass refuses it. Records each answer and askpass's status.
import json, os, subprocess, sys
out = sys.argv[-1]
n = int([a for a in sys.argv if a.startswith("NumberOfPasswordPrompts=")][0]
        .split("=")[1])
tries = []
for i in range(n + 1):
    r = subprocess.run([os.environ["SSH_ASKPASS"],
                        "(alice@127.0.0.1) Workload identity token: "],
                       capture_output=True)
    tries.append({"rc": r.returncode, "token": r.stdout.decode().strip(),
                  "err": r.stderr.decode()})
with open(out, "w") as f:
    json.dump({"argv": sys.argv, "tries": tries,
               "state": os.environ.get("WIF_SSH_STATE")}, f)
sys.exit(255)
'''


class SshTest(Base):
    def test_refused_cached_token_retried_once(self):
        f = Fake(self, "azure")
        args = ["--source", "azure", "--audience", AUD, "--endpoint", f.url]
        cached = self.assert_token(self.token(*args))
        fake_ssh = self.write("fake-ssh", FAKE_SSH_REFUSING, 0o755)
        out = os.path.join(self.tmp, "ssh.json")
        time.sleep(1.1)  # a new token differs in iat
        r = self.wifctl("ssh", *args, "--ssh-program", fake_ssh, "--",
                        "alice@127.0.0.1", out)
        self.assertEqual(r.returncode, 255)
        with open(out) as fh:
            rec = json.load(fh)
        self.assertIn("NumberOfPasswordPrompts=2", rec["argv"])
        t = rec["tries"]
        self.assertEqual(len(t), 3)
        # 1: the cached token; 2: a new one, fetched once; 3: nothing.
        self.assertEqual((t[0]["rc"], t[0]["token"]), (0, cached))
        self.assertEqual(t[1]["rc"], 0)
        self.assertNotEqual(t[1]["token"], cached)
        self.assertIn("refused the cached token", t[1]["err"])
        self.assertEqual((t[2]["rc"], t[2]["token"]), (1, ""))
        self.assertIn("not trying again", t[2]["err"])
        self.assertEqual(len(f.requests()), 2)
        # The refused entry is gone: the cache holds the new token.
        self.assertEqual(self.assert_token(self.token(*args)), t[1]["token"])
        self.assertEqual(len(f.requests()), 2)
        # The attempt file is removed by the next run (its ssh is gone).
        r = self.wifctl("ssh", *args, "--ssh-program", fake_ssh, "--",
                        "alice@127.0.0.1", out)
        self.assertFalse(os.path.exists(rec["state"]))

    def test_foreign_prompts_explained(self):
        f = Fake(self, "azure")
        env = {"WIF_SOURCE": "azure", "WIF_AUDIENCE": AUD,
               "WIF_ENDPOINT": f.url}
        r = self.wifctl("askpass", "The authenticity of host '[127.0.0.1]:"
                        "2222 ([127.0.0.1]:2222)' can't be established.\n"
                        "ED25519 key fingerprint is SHA256:abc.\n"
                        "Are you sure you want to continue connecting "
                        "(yes/no/[fingerprint])? ", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.out, "")  # never "yes"
        self.assertIn("Are you sure you want to continue connecting", r.err)
        self.assertIn("known_hosts", r.err)
        self.assertIn("ssh-keyscan", r.err)
        r = self.wifctl("askpass", "Enter passphrase for key "
                        "'/home/a/.ssh/id_ed25519': ", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.out, "")
        self.assertIn("ssh-add", r.err)
        r = self.wifctl("askpass", "(a@b) Password: ", env=env)
        self.assertEqual(r.returncode, 1)
        self.assertIn("asking for a password", r.err)
        self.assertEqual(f.requests(), [])

    def test_expired_token_warned(self):
        import jwt
        with open(os.path.join(KEYS, "rs256.key.pem"), "rb") as fh:
            key = fh.read()
        fake_ssh = self.write("fake-ssh", "#!/bin/sh\nexit 0\n", 0o755)
        # 59: inside the 60 s warning window for as long as a slow run can
        # take to get there.
        for delta, want in ((59, "expires in"), (-100, "expired")):
            t = int(time.time())
            tok = jwt.encode({"iss": ISS, "aud": AUD, "sub": "s", "iat": t,
                              "exp": t + delta}, key, algorithm="RS256")
            p = self.write("tok", tok + "\n")
            r = self.wifctl("ssh", "--source", "file:" + p,
                            "--ssh-program", fake_ssh, "host")
            self.assertEqual(r.returncode, 0, r.err)
            self.assertIn("warning: the token " + want, r.err)
        t = int(time.time())
        p = self.write("tok", jwt.encode(
            {"iss": ISS, "aud": AUD, "sub": "s", "exp": t + 3600}, key,
            algorithm="RS256"))
        r = self.wifctl("ssh", "--source", "file:" + p,
                        "--ssh-program", fake_ssh, "host")
        self.assertEqual(r.returncode, 0)
        self.assertNotIn("warning", r.err)

    def test_ssh_wires_askpass(self):
        f = Fake(self, "azure", "--pad", "1400")
        fake_ssh = self.write("fake-ssh", FAKE_SSH, 0o755)
        out = os.path.join(self.tmp, "ssh.json")
        r = self.wifctl("ssh", "--source", "azure", "--audience", AUD,
                        "--endpoint", f.url, "--ssh-program", fake_ssh,
                        "--", "-p", "2222", "alice@127.0.0.1", out)
        self.assertEqual(r.returncode, 0, r.err)
        with open(out) as fh:
            rec = json.load(fh)
        # A token fetched now: one attempt (one decision line on the host).
        self.assertEqual(rec["argv"][1:], [
            "-o", "PreferredAuthentications=keyboard-interactive",
            "-o", "NumberOfPasswordPrompts=1",
            "-p", "2222", "alice@127.0.0.1", out])
        self.assertNotIn("WIF_SSH_STATE", rec["env"])
        self.assertEqual(rec["env"]["SSH_ASKPASS_REQUIRE"], "force")
        self.assertEqual(os.path.realpath(rec["env"]["SSH_ASKPASS"]),
                         os.path.realpath(WIFCTL))
        self.assertEqual(rec["env"]["WIF_SOURCE"], "azure")
        self.assertEqual(rec["parts"], 3)
        self.assert_token(self.token("--source", "azure", "--audience", AUD,
                                     "--endpoint", f.url))
        self.assertEqual(len(f.requests()), 1)
        tok = self.token("--source", "azure", "--audience", AUD,
                         "--endpoint", f.url).out.strip()
        self.assertEqual(rec["token"], tok)

    def test_ssh_token_failure_stops_early(self):
        fake_ssh = self.write("fake-ssh", "#!/bin/sh\ntouch ran\n", 0o755)
        r = self.wifctl("ssh", "--source", "azure", "--audience", AUD,
                        "--endpoint", "http://127.0.0.1:9",
                        "--ssh-program", fake_ssh, "host")
        self.assertEqual(r.returncode, 3)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "ran")))
        r = self.wifctl("ssh", "--source", "azure", "--audience", AUD)
        self.assertEqual(r.returncode, 2)


def main():
    global WIFCTL, KEYS, FAKE, TMP_PARENT
    p = argparse.ArgumentParser()
    p.add_argument("--wifctl", required=True)
    p.add_argument("--keys", required=True)
    p.add_argument("--fake", required=True)
    p.add_argument("--tmp", required=True)
    args, rest = p.parse_known_args()
    WIFCTL = os.path.abspath(args.wifctl)
    KEYS, FAKE, TMP_PARENT = args.keys, args.fake, args.tmp
    os.makedirs(TMP_PARENT, exist_ok=True)
    unittest.main(argv=[sys.argv[0]] + rest)


if __name__ == "__main__":
    main()
