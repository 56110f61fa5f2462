#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A minimal syslog receiver for tests and the demo.

Machines without a syslog daemon have no /dev/log, and PAM modules' log
lines (pam_syslog) would vanish. This binds a Unix datagram socket, appends
each message as one line to --out, and exits after --lifetime seconds or on
SIGTERM, removing the socket it created. It never replaces an existing
socket.
"""
import argparse
import os
import signal
import socket
import sys
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--socket", default="/dev/log")
    ap.add_argument("--out", required=True)
    ap.add_argument("--lifetime", type=float, default=600)
    ap.add_argument("--ready", help="file created once the socket is bound")
    args = ap.parse_args()

    if os.path.exists(args.socket):
        print(f"syslog_sink: {args.socket} exists; not replacing it",
              file=sys.stderr)
        return 1
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(args.socket)
    os.chmod(args.socket, 0o666)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    if args.ready:
        open(args.ready, "w").close()
    deadline = time.monotonic() + args.lifetime
    try:
        with open(args.out, "a", buffering=1) as out:
            while not stop and time.monotonic() < deadline:
                sock.settimeout(0.2)
                try:
                    data = sock.recv(65536)
                except socket.timeout:
                    continue
                line = data.decode("utf-8", "replace").rstrip("\n\0")
                out.write(line.replace("\n", "\\n") + "\n")
    finally:
        sock.close()
        os.unlink(args.socket)
    return 0


if __name__ == "__main__":
    sys.exit(main())
