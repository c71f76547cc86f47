#!/usr/bin/python3
"""@COMPONENT@ @VERSION@ of hop's demo product `manager`.

A small, real long-running service: it reads its port from its config file
and serves GET /readyz (200 once ready) and GET /version. SIGTERM stops it
gracefully; SIGUSR2 drains it (stop accepting, finish requests, exit 0),
like ironic's graceful shutdown.

Config keys (one `key: value` per line): port (required), ready (false
makes /readyz answer 503 forever), startup_delay (seconds before ready).
"""
import http.server
import os
import signal
import socket
import sys
import threading
import time

VERSION = "@VERSION@"
COMPONENT = "@COMPONENT@"


def read_config(path):
    config = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if ":" in line:
                key, value = line.split(":", 1)
                config[key.strip()] = value.strip().strip('"')
    return config


def notify_ready(ready_at):
    """Tells systemd (Type=notify units) that the service is ready."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return
    time.sleep(max(0.0, ready_at - time.monotonic()))
    if address.startswith("@"):
        address = "\0" + address[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(address)
        s.sendall(b"READY=1")


def main():
    if len(sys.argv) != 3 or sys.argv[1] != "--config":
        sys.exit(f"usage: {sys.argv[0]} --config PATH")
    config = read_config(sys.argv[2])
    port = int(config["port"])
    ready_at = time.monotonic() + float(config.get("startup_delay", "0"))
    never_ready = config.get("ready", "true").lower() == "false"

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/version":
                self.answer(200, VERSION)
            elif self.path == "/unit":
                # Set by the systemd unit: tells which unit file started it.
                self.answer(200, os.environ.get("MANAGER_UNIT", "none"))
            elif self.path == "/readyz":
                ok = not never_ready and time.monotonic() >= ready_at
                self.answer(200 if ok else 503, "ready" if ok else "not ready")
            else:
                self.answer(404, "not found")

        def answer(self, code, body):
            data = (body + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = False

    def stop(signum, _frame):
        name = signal.Signals(signum).name
        print(f"{COMPONENT} {VERSION}: {name}, finishing requests", flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR2, stop)
    if not never_ready:
        threading.Thread(target=notify_ready, args=(ready_at,), daemon=True).start()
    print(f"{COMPONENT} {VERSION} listening on 127.0.0.1:{port}", flush=True)
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    print(f"{COMPONENT} {VERSION}: stopped", flush=True)


if __name__ == "__main__":
    main()
