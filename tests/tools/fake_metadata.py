#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Loopback fakes of the token services pam_wif's sources talk to.

One program, one service per run (--mode):
  azure   Azure IMDS   GET /metadata/identity/oauth2/token
  appservice  Azure App Service / Functions / Container Apps identity
          endpoint  GET /msi/token?api-version=2019-08-01 with
          X-IDENTITY-HEADER (--identity-header)
  gcp     GCP metadata GET /computeMetadata/v1/instance/service-accounts/
                           ACCOUNT/identity (ACCOUNT: default or
                           --service-account)
  github  GitHub Actions OIDC  GET /idtoken?api-version=2.0&audience=...
  oauth   OAuth 2.0 token endpoint  POST /oauth2/v2.0/token
          (client_credentials with a client secret, an RFC 7523 assertion
          signed by --client-cert, or a federated JWT the test keys signed
          for --federated-issuer / --federated-subject, audience
          api://AzureADTokenExchange); also POST /oauth/token (Auth0's
          shape: the API is named by the audience parameter, which must be
          one of --api-audience)

Each behaves as the real service documents: required request headers (400
or 403 without them), required query parameters, response shapes (Azure's
expires_in / expires_on are strings; GCP answers with Metadata-Flavor:
Google). Tokens it hands out are signed with the test keys
(<keys>/<kid>.key.pem, PyJWT), so tests validate them with
`wifctl verify --issuer ISS --jwks <keys>/jwks.json`.

--faults is a comma-separated script applied to successive requests, then
normal answers:
  CODE[:RETRY_AFTER]  that HTTP status (with Retry-After seconds)
  slow:SECONDS        answer normally after a delay
  hang                accept, then never answer (until --lifetime ends)
  garbage             200 with a body that is not what the service sends
  huge                200 with a 2 MiB body
  noflavor            (gcp) a normal answer without Metadata-Flavor
  ITEM*               repeat ITEM forever (e.g. 410*)

The program listens on 127.0.0.1, port 0, prints "PORT <n>" on stdout, and
exits on its own after --lifetime seconds. With --tls-dir it serves https
with a throwaway CA it writes there (ca.pem). --log appends one JSON line
per request (method, path, query, headers, form) for the tests to inspect.
"""
import argparse
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ARGS = None
LOCK = threading.Lock()
FAULTS = []
COUNT = [0]


def now():
    return int(time.time())


def sign(claims):
    with open(os.path.join(ARGS.keys, ARGS.kid + ".key.pem"), "rb") as f:
        key = f.read()
    alg = {"rs": "RS", "ps": "PS", "es": "ES"}.get(ARGS.kid[:2], "RS")
    alg = "EdDSA" if ARGS.kid == "eddsa" else alg + ARGS.kid[2:]
    return jwt.encode(claims, key, algorithm=alg,
                      headers={"kid": ARGS.kid, "typ": "JWT"})


def mint(aud, sub, extra=None):
    t = now()
    c = {"iss": ARGS.issuer, "aud": aud, "sub": sub, "iat": t, "nbf": t,
         "exp": t + ARGS.token_lifetime}
    c.update(extra or {})
    if ARGS.pad:
        c["pad"] = "x" * ARGS.pad
    return sign(c)


def next_fault():
    with LOCK:
        COUNT[0] += 1
        if not FAULTS:
            return None
        f = FAULTS[0]
        if f.endswith("*"):
            return f[:-1]
        FAULTS.pop(0)
        return f


def make_tls(d):
    """A throwaway CA and a server certificate for 127.0.0.1 and ::1."""
    os.makedirs(d, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wif test CA")])
    t = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
          .public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number())
          .not_valid_before(t - datetime.timedelta(minutes=5))
          .not_valid_after(t + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    san = x509.SubjectAlternativeName([
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.IPAddress(ipaddress.ip_address("::1")),
        x509.DNSName("localhost")])
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(t - datetime.timedelta(minutes=5))
            .not_valid_after(t + datetime.timedelta(days=1))
            .add_extension(san, critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    with open(os.path.join(d, "ca.pem"), "wb") as f:
        f.write(ca.public_bytes(pem))
    with open(os.path.join(d, "server.pem"), "wb") as f:
        f.write(cert.public_bytes(pem))
    with open(os.path.join(d, "server.key"), "wb") as f:
        f.write(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-metadata"

    def log_message(self, fmt, *args):
        pass

    # -- plumbing --

    def send(self, status, body, ctype="application/json", headers=None):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def record(self, form=None):
        if not ARGS.log:
            return
        u = urllib.parse.urlsplit(self.path)
        entry = {"method": self.command, "path": u.path,
                 "query": urllib.parse.parse_qs(u.query,
                                                keep_blank_values=True),
                 "headers": {k.lower(): v for k, v in self.headers.items()},
                 "form": form, "time": time.time()}
        with LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def flavor(self):
        return {"Metadata-Flavor": "Google"} if ARGS.mode == "gcp" else {}

    def fault(self):
        """True when a scripted fault answered the request."""
        f = next_fault()
        if f is None or f == "ok":
            return False
        if f.startswith("slow:"):
            time.sleep(float(f[5:]))
            return False
        if f == "hang":
            time.sleep(ARGS.lifetime + 5)
            return True
        if f == "garbage":
            self.send(200, b"<html>\x00\x01 not a token \xff</html>",
                      "text/html", self.flavor())
            return True
        if f == "huge":
            self.send(200, b"A" * (2 * 1024 * 1024), "text/plain",
                      self.flavor())
            return True
        if f == "noflavor":
            self.fault_noflavor = True
            return False
        code, _, after = f.partition(":")
        headers = dict(self.flavor())
        if after:
            headers["Retry-After"] = after
        body = {"error": "fault_%s" % code,
                "error_description": "scripted fault %s" % code}
        if ARGS.mode == "gcp":
            body = "scripted fault %s" % code
        self.send(int(code), body,
                  "text/plain" if ARGS.mode == "gcp" else "application/json",
                  headers)
        return True

    # -- services --

    def do_GET(self):
        self.record()
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        if ARGS.mode == "azure":
            return self.azure(u.path, q)
        if ARGS.mode == "appservice":
            return self.appservice(u.path, q)
        if ARGS.mode == "gcp":
            return self.gcp(u.path, q)
        if ARGS.mode == "github":
            return self.github(u.path, q)
        self.send(405, {"error": "invalid_request",
                        "error_description": "use POST"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n).decode("ascii", "replace") if n else ""
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)
        self.record({k: v for k, v in form.items()
                     if k not in ("client_secret",)})
        if ARGS.mode != "oauth":
            return self.send(405, {"error": "method not allowed"})
        return self.oauth(urllib.parse.urlsplit(self.path).path, form)

    def azure(self, path, q):
        def bad(desc, status=400, err="invalid_request"):
            self.send(status, {"error": err, "error_description": desc})
        if path != "/metadata/identity/oauth2/token":
            return bad("no such path", 404, "not_found")
        # IMDS drops anything that looks proxied (SECURITY-CASES K3).
        if "X-Forwarded-For" in self.headers:
            return bad("X-Forwarded-For is not allowed")
        if self.headers.get("Metadata") != "true":
            return bad("Required metadata header not specified")
        if q.get("api-version") != ["2018-02-01"]:
            return bad("Missing or unsupported api-version")
        res = q.get("resource", [""])[0]
        if not res:
            return bad("Required audience not specified")
        sel = [k for k in ("client_id", "object_id", "msi_res_id") if k in q]
        if len(sel) > 1:
            return bad("Multiple identity selectors")
        cid = q.get("client_id", [None])[0]
        if ARGS.client_id and cid not in (None, ARGS.client_id):
            return bad("Identity not found")
        if self.fault():
            return
        t = now()
        tok = mint(res, ARGS.subject, {"oid": ARGS.subject, "tid": "tenant",
                                       "appid": cid or ARGS.client_id or ""})
        # The real service sends every number as a string.
        self.send(200, {"access_token": tok, "client_id": cid or "sys",
                        "expires_in": str(ARGS.token_lifetime),
                        "expires_on": str(t + ARGS.token_lifetime),
                        "ext_expires_in": str(ARGS.token_lifetime),
                        "not_before": str(t), "resource": res,
                        "token_type": "Bearer"})

    def appservice(self, path, q):
        def bad(desc, status=400):
            self.send(status, {"statusCode": status, "message": desc})
        if path != "/msi/token":
            return bad("no such path", 404)
        if self.headers.get("X-IDENTITY-HEADER") != ARGS.identity_header:
            return bad("Unauthorized: X-IDENTITY-HEADER", 401)
        if q.get("api-version") != ["2019-08-01"]:
            return bad("api-version must be 2019-08-01")
        # 2019-08-01 knows principal_id and mi_res_id, not IMDS's names.
        if "object_id" in q or "msi_res_id" in q:
            return bad("unknown parameter")
        res = q.get("resource", [""])[0]
        if not res:
            return bad("resource is required")
        sel = [k for k in ("client_id", "principal_id", "mi_res_id")
               if k in q]
        if len(sel) > 1:
            return bad("Multiple identity selectors")
        cid = q.get("client_id", [None])[0]
        if ARGS.client_id and cid not in (None, ARGS.client_id):
            return bad("Identity not found")
        if self.fault():
            return
        t = now()
        sub = q.get("principal_id", [ARGS.subject])[0]
        tok = mint(res, sub, {"oid": sub, "tid": "tenant",
                              "appid": cid or ARGS.client_id or "",
                              "xms_mirid": q.get("mi_res_id", [""])[0]})
        self.send(200, {"access_token": tok, "expires_on": str(
            t + ARGS.token_lifetime), "resource": res,
            "token_type": "Bearer", "client_id": cid or "sys"})

    def gcp(self, path, q):
        fl = {"Metadata-Flavor": "Google"}
        if self.headers.get("Metadata-Flavor") != "Google" or \
                "X-Forwarded-For" in self.headers:
            return self.send(403, "Missing Metadata-Flavor:Google header.",
                             "text/html", fl)
        pre = "/computeMetadata/v1/instance/service-accounts/"
        if not path.startswith(pre) or not path.endswith("/identity"):
            return self.send(404, "Not Found", "text/html", fl)
        account = urllib.parse.unquote(path[len(pre):-len("/identity")])
        if account not in ("default", ARGS.service_account):
            return self.send(404, "Not Found", "text/html", fl)
        aud = q.get("audience", [""])[0]
        if not aud:
            return self.send(400, "non-empty audience parameter required",
                             "text/html", fl)
        self.fault_noflavor = False
        if self.fault():
            return
        email = "sa@project.example" if account == "default" else account
        extra = {"azp": ARGS.subject, "email": email}
        if q.get("format") == ["full"]:
            extra["google"] = {"compute_engine": {"instance_id": "1",
                                                  "project_id": "p"}}
        self.send(200, mint(aud, ARGS.subject, extra), "application/text",
                  {} if self.fault_noflavor else fl)

    def github(self, path, q):
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or \
                auth[7:] != ARGS.request_token:
            return self.send(401, {"message": "Bad credentials"})
        if path != "/idtoken" or q.get("api-version") != ["2.0"]:
            return self.send(404, {"message": "Not Found"})
        if self.fault():
            return
        aud = q.get("audience", ["https://github.com/octo-org"])[0]
        self.send(200, {"count": 1, "value": mint(
            aud, "repo:octo-org/octo-repo:ref:refs/heads/main",
            {"repository": "octo-org/octo-repo"})})

    def oauth(self, path, form):
        def bad(err, desc, status=400):
            self.send(status, {"error": err, "error_description": desc,
                               "error_codes": [70000]})
        if path not in ("/oauth2/v2.0/token", "/oauth/token"):
            return bad("invalid_request", "no such endpoint", 404)
        if not self.headers.get("Content-Type", "").startswith(
                "application/x-www-form-urlencoded"):
            return bad("invalid_request", "form body required")
        one = {k: v[0] for k, v in form.items() if len(v) == 1}
        if len(one) != len(form):
            return bad("invalid_request", "repeated parameter")
        if one.get("grant_type") != "client_credentials":
            return bad("unsupported_grant_type", "grant_type")
        if one.get("client_id") != ARGS.client_id:
            return bad("unauthorized_client", "unknown client", 400)
        if "client_secret" in one:
            if one["client_secret"] != ARGS.client_secret:
                return bad("invalid_client", "bad secret", 401)
        elif "client_assertion" in one and ARGS.federated_issuer:
            why = self.check_federated(one)
            if why:
                return bad("invalid_client", why, 401)
        elif "client_assertion" in one:
            why = self.check_assertion(one)
            if why:
                return bad("invalid_client", why, 401)
        else:
            return bad("invalid_client", "no credentials", 401)
        if self.fault():
            return
        scope = one.get("scope", "")
        aud = scope[:-len("/.default")] if scope.endswith("/.default") \
            else scope or ARGS.client_id
        if path == "/oauth/token":
            # Auth0: the API is the audience parameter; scope is a list.
            if one.get("audience") not in ARGS.api_audience:
                return bad("access_denied",
                           "Service not enabled within domain", 403)
            aud = one["audience"]
        elif "audience" in one or "resource" in one:
            aud = one.get("resource") or one.get("audience")
        self.send(200, {"token_type": "Bearer",
                        "expires_in": ARGS.token_lifetime,
                        "ext_expires_in": ARGS.token_lifetime,
                        "access_token": mint(aud, ARGS.client_id,
                                             {"azp": ARGS.client_id})})

    def check_federated(self, one):
        """Entra's workload identity federation: the assertion is a JWT
        from a trusted issuer, subject and audience, not signed by the
        client."""
        if one.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "client_assertion_type"
        with open(os.path.join(ARGS.keys, "jwks.json")) as f:
            jwks = json.load(f)
        try:
            kid = jwt.get_unverified_header(one["client_assertion"])["kid"]
            jwk = [k for k in jwks["keys"] if k.get("kid") == kid][0]
            key = jwt.PyJWK(jwk).key
            c = jwt.decode(one["client_assertion"], key,
                           algorithms=[jwk.get("alg", "RS256")],
                           audience="api://AzureADTokenExchange",
                           issuer=ARGS.federated_issuer,
                           options={"require": ["exp", "iss", "sub",
                                                "aud"]})
        except (jwt.PyJWTError, KeyError, IndexError) as e:
            return "AADSTS700211: assertion rejected: %s" % e
        if c["sub"] != ARGS.federated_subject:
            return "AADSTS70021: No matching federated identity record"
        return None

    def check_assertion(self, one):
        if one.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return "client_assertion_type"
        a = one["client_assertion"]
        with open(ARGS.client_cert, "rb") as f:
            cert = x509.load_pem_x509_certificate(f.read())
        der = cert.public_bytes(serialization.Encoding.DER)
        try:
            h = jwt.get_unverified_header(a)
        except jwt.PyJWTError as e:
            return "bad assertion: %s" % e
        want = jwt.utils.base64url_encode(
            hashlib.sha256(der).digest()).decode()
        if h.get("alg") != "RS256" or h.get("x5t#S256") != want:
            return "assertion header: alg or x5t#S256"
        endpoint = "https://127.0.0.1:%d/oauth2/v2.0/token" % PORT[0]
        try:
            c = jwt.decode(a, cert.public_key(), algorithms=["RS256"],
                           audience=endpoint,
                           options={"require": ["exp", "iss", "sub", "jti",
                                                "aud"]})
        except jwt.PyJWTError as e:
            return "assertion rejected: %s" % e
        if c["iss"] != ARGS.client_id or c["sub"] != ARGS.client_id:
            return "assertion iss/sub"
        if c["exp"] - now() > 600:
            return "assertion lives too long"
        return None


PORT = [0]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--mode", required=True,
                   choices=["azure", "appservice", "gcp", "github",
                            "oauth"])
    p.add_argument("--keys", required=True)
    p.add_argument("--kid", default="rs256")
    p.add_argument("--issuer", default="https://issuer.example.test")
    p.add_argument("--subject", default="7d1a4f6e-0c55-4b8e-9a41-2f8c8d1e0b3a")
    p.add_argument("--client-id")
    p.add_argument("--client-secret")
    p.add_argument("--client-cert")
    p.add_argument("--request-token", default="gh-request-token")
    p.add_argument("--identity-header", default="app-svc-header-secret")
    p.add_argument("--service-account")
    p.add_argument("--federated-issuer")
    p.add_argument("--federated-subject")
    p.add_argument("--api-audience", action="append", default=[])
    p.add_argument("--token-lifetime", type=int, default=3600)
    p.add_argument("--pad", type=int, default=0,
                   help="add a claim of this many bytes (long tokens)")
    p.add_argument("--faults", default="")
    p.add_argument("--tls-dir")
    p.add_argument("--log")
    p.add_argument("--lifetime", type=float, default=60.0)
    ARGS = p.parse_args()
    FAULTS.extend(x for x in ARGS.faults.split(",") if x)

    srv = Server(("127.0.0.1", 0), Handler)
    if ARGS.tls_dir:
        if not os.path.exists(os.path.join(ARGS.tls_dir, "ca.pem")):
            make_tls(ARGS.tls_dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(ARGS.tls_dir, "server.pem"),
                            os.path.join(ARGS.tls_dir, "server.key"))
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    PORT[0] = srv.server_address[1]
    # Bounded life: a test that forgets us cannot leave us running.
    threading.Timer(ARGS.lifetime, lambda: os._exit(0)).start()
    sys.stdout.write("PORT %d\n" % PORT[0])
    sys.stdout.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
