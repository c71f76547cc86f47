#!/usr/bin/python3
"""Waits until HAProxy's own health checks say a server is UP, and keep
saying so for a settle time.

Reads `show stat` on HAProxy's runtime API (the admin socket): the server
counts only while its status is exactly "UP" (not "UP 1/3", which is a
server going down, nor the UP HAProxy reports for a just-enabled server
before its first check) and its last check passed (L4OK, L6OK, L7OK), and
it must stay so for --settle seconds. Exits 0 then; exits 1 with the last
status seen when --timeout passes first. Used by hop's playbook
(tasks/back_in.yml) before the next node goes out.
"""
import argparse
import csv
import io
import socket
import sys
import time


def show_stat(path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(path)
        s.sendall(b"show stat\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode("utf-8", "replace").lstrip("# ")
    return list(csv.DictReader(io.StringIO(text)))


def state(path, backend, server):
    for row in show_stat(path):
        if row.get("pxname") == backend and row.get("svname") == server:
            return row.get("status", ""), row.get("check_status", "")
    return None, None


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--backend", required=True)
    p.add_argument("--server", required=True)
    p.add_argument("--settle", type=float, default=10.0)
    p.add_argument("--timeout", type=float, default=120.0)
    a = p.parse_args()
    deadline = time.monotonic() + a.timeout
    since = None
    last = "no answer from the admin socket"
    while True:
        try:
            status, check = state(a.socket, a.backend, a.server)
        except OSError as e:
            status, check, last = None, None, f"admin socket {a.socket}: {e}"
        if status is None and check is None and not last.startswith("admin socket"):
            last = f"HAProxy has no server {a.server} in backend {a.backend}"
        elif status is not None:
            last = f"status {status!r}, last check {check or 'none'!r}"
        now = time.monotonic()
        if status == "UP" and (check or "").endswith("OK"):
            since = since if since is not None else now
            if now - since >= a.settle:
                print(f"{a.server}: UP for {a.settle:g}s by HAProxy's checks")
                return 0
        else:
            since = None
        if now >= deadline:
            print(
                f"{a.server} did not stay UP in {a.backend} for {a.settle:g}s within "
                f"{a.timeout:g}s: {last}",
                file=sys.stderr,
            )
            return 1
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
