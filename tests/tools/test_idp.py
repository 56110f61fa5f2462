#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A loopback HTTPS identity provider for the tests: discovery, JWKS, faults.

It makes its own throwaway CA and server certificates at start (in --state),
serves an OpenID discovery document and a JWKS built from the public keys
that tests/tools/gen_test_keys.py wrote (--keys), counts every request, and
can be switched at run time into fault modes. It stops by itself after
--lifetime seconds, so a crashed test never leaves it running.

Command line:

  test_idp.py --keys DIR --state DIR [--port 0] [--port-file F]
              [--host 127.0.0.1] [--lifetime 600] [--kids rs256,es256]

  --port 0 picks a free port; the HTTPS port is written to --port-file (and
  to STATE/port), the plain-HTTP control port to STATE/control-port, once
  the server is ready. STATE/ca.pem is the CA to trust (ca_file).

URLs (PORT the HTTPS port, any path prefix P is an issuer):

  https://localhost:PORT/P/.well-known/openid-configuration
      {"issuer": "https://localhost:PORT/P", "jwks_uri": ".../P/jwks"}
  https://localhost:PORT/P/jwks    the published key set

Control (plain HTTP on 127.0.0.1:CONTROL, never affected by faults):

  GET  /stats      {"total": N, "discovery": N, "jwks": N, "other": N}
  POST /reset      zero the counters
  POST /config     JSON object, any of:
      "mode":    "ok" | "500" | "404" | "slow" | "hang" | "close" |
                 "garbage" | "html" | "oversize" | "oversize-length" |
                 "gzip" | "redirect-http" | "empty-keys" | "wrong-issuer" |
                 "wrong-host" | "untrusted-ca" | "reset"
      "fault_on": "all" | "jwks" | "discovery"   (where mode applies)
      "delay":   seconds for "slow" (default 2)
      "kids":    list of kids (files KEYS/<kid>.jwk.json) to publish
      "jwks_raw": a JWKS text served as is (null: built from kids)
      "cache_control": a Cache-Control value, or null for none
  GET  /config     the current settings

Python users can import this file and use the IdP class (start/stop/
config/stats) instead of the command line.
"""
import argparse
import datetime
import gzip
import http.server
import ipaddress
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

MODES = ("ok", "500", "404", "slow", "hang", "close", "garbage", "html",
         "oversize", "oversize-length", "gzip", "redirect-http", "empty-keys",
         "wrong-issuer", "wrong-host", "untrusted-ca", "reset")
BODY_CAP = 1024 * 1024


# ---- certificates ----

def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    os.chmod(path, 0o600)


def _write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
            .add_extension(x509.KeyUsage(False, False, False, False, False,
                                         True, True, False, False), True)
            .sign(key, hashes.SHA256()))
    return key, cert


def _make_leaf(ca_key, ca_cert, names, ips):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    san = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = (x509.CertificateBuilder()
            .subject_name(_name(names[0])).issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(san), False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           True)
            .add_extension(x509.ExtendedKeyUsage(
                [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def make_certs(state):
    """ca.pem (trusted by tests), server/wrong-host/untrusted leaf pairs."""
    ca_key, ca = _make_ca("pam_wif test CA")
    _write_cert(os.path.join(state, "ca.pem"), ca)
    other_key, other = _make_ca("pam_wif untrusted CA")
    _write_cert(os.path.join(state, "untrusted-ca.pem"), other)
    leaves = {
        "server": _make_leaf(ca_key, ca, ["localhost"], ["127.0.0.1", "::1"]),
        "wrong-host": _make_leaf(ca_key, ca, ["wrong-host.invalid"], []),
        "untrusted-ca": _make_leaf(other_key, other, ["localhost"],
                                   ["127.0.0.1", "::1"]),
    }
    contexts = {}
    for name, (key, cert) in leaves.items():
        kp = os.path.join(state, name + ".key.pem")
        cp = os.path.join(state, name + ".pem")
        _write_key(kp, key)
        _write_cert(cp, cert)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(cp, kp)
        contexts[name] = ctx
    return contexts


# ---- the server ----

class State:
    def __init__(self, keys_dir, kids):
        self.lock = threading.Lock()
        self.keys_dir = keys_dir
        self.settings = {"mode": "ok", "fault_on": "all", "delay": 2.0,
                         "kids": list(kids), "jwks_raw": None,
                         "cache_control": None}
        self.counts = {"total": 0, "discovery": 0, "jwks": 0, "other": 0}
        self.stop = threading.Event()

    def count(self, kind):
        with self.lock:
            self.counts["total"] += 1
            self.counts[kind] += 1

    def snapshot(self):
        with self.lock:
            return dict(self.settings)

    def update(self, new):
        with self.lock:
            for k, v in new.items():
                if k not in self.settings:
                    raise ValueError("unknown setting %r" % k)
                if k == "mode" and v not in MODES:
                    raise ValueError("unknown mode %r" % v)
                if k == "fault_on" and v not in ("all", "jwks", "discovery"):
                    raise ValueError("bad fault_on %r" % v)
                self.settings[k] = v

    def jwks_text(self, s):
        if s["jwks_raw"] is not None:
            return s["jwks_raw"]
        keys = []
        for kid in s["kids"]:
            with open(os.path.join(self.keys_dir, kid + ".jwk.json")) as f:
                keys.append(json.load(f))
        return json.dumps({"keys": keys})


class TLSServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, handler, state, contexts):
        self.state = state
        self.contexts = contexts
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = self.socket.accept()
        mode = self.state.snapshot()["mode"]
        if mode == "reset":
            # Down for good measure: the connection dies before TLS.
            self.state.count("other")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
            sock.close()
            raise OSError("reset mode")
        ctx = self.contexts.get(mode, self.contexts["server"])
        # The handshake runs in the handler thread, so a stalled client
        # cannot block accept().
        return ctx.wrap_socket(sock, server_side=True,
                               do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        pass  # clients that hang up or reject our certificate are expected


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pam_wif-test-idp"
    timeout = 30

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        try:
            self.connection.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
            raise

    def _send(self, status, body, ctype="application/json", extra=None,
              length=True):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        cc = self.server.state.snapshot()["cache_control"]
        if cc is not None:
            self.send_header("Cache-Control", cc)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        state = self.server.state
        s = state.snapshot()
        path = self.path.split("?", 1)[0]
        port = self.server.server_address[1]
        host = "localhost:%d" % port
        if path.endswith("/.well-known/openid-configuration"):
            kind = "discovery"
            prefix = path[:-len("/.well-known/openid-configuration")]
        elif path.endswith("/jwks"):
            kind = "jwks"
            prefix = path[:-len("/jwks")]
        else:
            kind = "other"
            prefix = ""
        state.count(kind)
        if kind == "other":
            return self._send(404, '{"error":"not found"}')
        issuer = "https://%s%s" % (host, prefix)
        if kind == "discovery":
            body = json.dumps({"issuer": issuer,
                               "jwks_uri": issuer + "/jwks",
                               "id_token_signing_alg_values_supported":
                                   ["RS256"]})
        else:
            body = state.jwks_text(s)
        mode = s["mode"]
        if s["fault_on"] not in ("all", kind):
            mode = "ok"
        self._fault(mode, s, kind, body, issuer)

    def _fault(self, mode, s, kind, body, issuer):
        if mode in ("ok", "wrong-host", "untrusted-ca"):
            return self._send(200, body)
        if mode == "500":
            return self._send(500, '{"error":"internal"}')
        if mode == "404":
            return self._send(404, '{"error":"not found"}')
        if mode == "slow":
            if self.server.state.stop.wait(float(s["delay"])):
                return None
            return self._send(200, body)
        if mode == "hang":
            self.server.state.stop.wait(300)
            self.close_connection = True
            return None
        if mode == "close":
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data) + 100))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        if mode == "garbage":
            return self._send(200, b"\x00\xff\x13garbage{{{", "text/plain")
        if mode == "html":
            return self._send(200, "<html><body>Sign in</body></html>",
                              "text/html")
        if mode in ("oversize", "oversize-length"):
            pad = BODY_CAP + 4096
            data = ('{"keys":[],"pad":"' + "A" * pad + '"}').encode()
            if mode == "oversize-length":
                return self._send(200, data)
            # Chunked, no Content-Length: the cap must hold while reading.
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for i in range(0, len(data), 65536):
                    chunk = data[i:i + 65536]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except OSError:
                pass
            self.close_connection = True
            return None
        if mode == "gzip":
            return self._send(200, gzip.compress(body.encode()),
                              extra={"Content-Encoding": "gzip"})
        if mode == "redirect-http":
            return self._send(302, "", extra={
                "Location": "http://127.0.0.1:%d%s" % (
                    self.server.server_address[1], self.path)})
        if mode == "empty-keys":
            if kind == "jwks":
                return self._send(200, '{"keys":[]}')
            return self._send(200, body)
        if mode == "wrong-issuer":
            if kind == "discovery":
                doc = json.loads(body)
                doc["issuer"] = issuer + "/other"
                return self._send(200, json.dumps(doc))
            return self._send(200, body)
        return self._send(500, '{"error":"unknown mode"}')


class ControlHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        state = self.server.state
        if self.path == "/stats":
            with state.lock:
                return self._reply(200, dict(state.counts))
        if self.path == "/config":
            return self._reply(200, state.snapshot())
        return self._reply(404, {"error": "not found"})

    def do_POST(self):
        state = self.server.state
        n = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(n) if n else b"{}"
        if self.path == "/reset":
            with state.lock:
                for k in state.counts:
                    state.counts[k] = 0
            return self._reply(200, {})
        if self.path == "/config":
            try:
                state.update(json.loads(raw))
            except (ValueError, TypeError) as e:
                return self._reply(400, {"error": str(e)})
            return self._reply(200, state.snapshot())
        return self._reply(404, {"error": "not found"})


class ControlServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state):
        self.state = state
        super().__init__(("127.0.0.1", 0), ControlHandler)


def _write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def serve(args):
    os.makedirs(args.state, mode=0o700, exist_ok=True)
    contexts = make_certs(args.state)
    state = State(args.keys, [k for k in args.kids.split(",") if k])
    server = TLSServer((args.host, args.port), Handler, state, contexts)
    control = ControlServer(state)
    for srv in (server, control):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    port = server.server_address[1]
    _write_atomic(os.path.join(args.state, "control-port"),
                  "%d\n" % control.server_address[1])
    _write_atomic(os.path.join(args.state, "port"), "%d\n" % port)
    if args.port_file:
        _write_atomic(args.port_file, "%d\n" % port)

    def stop(*_):
        state.stop.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    state.stop.wait(args.lifetime)
    state.stop.set()
    server.shutdown()
    control.shutdown()
    return 0


# ---- a client for Python tests ----

class IdP:
    """Runs test_idp.py as a child process.

    with IdP(keys, state) as idp:
        idp.issuer("/tenant")    -> "https://localhost:PORT/tenant"
        idp.config(mode="500"); idp.stats()["jwks"]; idp.reset()
    """

    def __init__(self, keys, state, kids=("rs256",), lifetime=600,
                 host="127.0.0.1", python=sys.executable):
        self.keys = keys
        self.state = state
        self.kids = kids
        self.lifetime = lifetime
        self.host = host
        self.python = python
        self.proc = None
        self.port = None
        self.control_port = None

    def start(self, timeout=30):
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        for name in ("port", "control-port"):
            try:
                os.unlink(os.path.join(self.state, name))
            except FileNotFoundError:
                pass
        self.proc = subprocess.Popen(
            [self.python, os.path.abspath(__file__), "--keys", self.keys,
             "--state", self.state, "--port", "0", "--host", self.host,
             "--lifetime", str(self.lifetime), "--kids", ",".join(self.kids)])
        deadline = time.monotonic() + timeout
        port_file = os.path.join(self.state, "port")
        while not os.path.exists(port_file):
            if self.proc.poll() is not None:
                raise RuntimeError("test_idp.py exited early")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("test_idp.py did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        with open(os.path.join(self.state, "control-port")) as f:
            self.control_port = int(f.read())
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def ca_file(self):
        return os.path.join(self.state, "ca.pem")

    def issuer(self, prefix=""):
        return "https://localhost:%d%s" % (self.port, prefix)

    def _control(self, method, path, obj=None):
        data = json.dumps(obj).encode() if obj is not None else None
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.control_port, path), data=data,
            method=method, headers={"Content-Type": "application/json"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=10) as r:
            return json.loads(r.read())

    def config(self, **settings):
        return self._control("POST", "/config", settings)

    def stats(self):
        return self._control("GET", "/stats")

    def reset(self):
        return self._control("POST", "/reset", {})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--keys", required=True, help="gen_test_keys.py output")
    ap.add_argument("--state", required=True, help="certificates, port files")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--lifetime", type=float, default=600.0,
                    help="seconds before the server stops by itself")
    ap.add_argument("--kids", default="rs256",
                    help="comma-separated kids to publish at start")
    return serve(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
