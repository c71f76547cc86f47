#!/usr/bin/python3
"""@COMPONENT@ @VERSION@ of hop's demo product `manager`.

A small, real long-running service: it reads its port from its config file
and serves GET /readyz (200 once ready) and GET /version. SIGTERM and SIGUSR2
stop it gracefully: /readyz answers 503 at once, so a load balancer takes
the node out, requests keep being served for the drain time, then it stops
accepting, finishes what is in flight and exits 0 (like Shaken Fist's API
and ironic's graceful shutdown).

Config keys (one `key: value` per line): port (required), ready (false
makes /readyz answer 503 forever), startup_delay (seconds before ready),
pin_release_version (during a rolling upgrade: GET /format answers in that
older version's format, as Ironic's pin_release_version caps its RPC and
object versions). The service manager may set MANAGER_BIND (the address to
listen on, 127.0.0.1 by default; a cluster node's balancer needs 0.0.0.0)
and MANAGER_DRAIN_SECONDS (the drain time, 0 by default).

Faults for tests, each a file beside the config naming this version:
`never-ready-@VERSION@` (never ready on this host), `ignore-sigterm-@VERSION@`
(SIGTERM and SIGUSR2 are ignored: it serves on until killed),
`crash-after-ready-@VERSION@` (SIGKILLs itself 0.3 to 3 s after its first
ready answer, each time it is started: a release that passes one probe and
dies), `exit-at-start-@VERSION@` (prints why and exits 1 before listening).
"""
import http.server
import os
import random
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
    fault = lambda name: os.path.exists(
        os.path.join(os.path.dirname(sys.argv[2]), f"{name}-{VERSION}")
    )
    if fault("exit-at-start"):
        print(f"{COMPONENT} {VERSION}: cannot start: the fault file exit-at-start-{VERSION} is there",
              flush=True)
        sys.exit(1)
    port = int(config["port"])
    ready_at = time.monotonic() + float(config.get("startup_delay", "0"))
    never_ready = config.get("ready", "true").lower() == "false" or fault("never-ready")
    crash_armed = threading.Event()
    pin = config.get("pin_release_version", "")

    def speaks():
        return pin or ".".join(VERSION.split(".")[:2])
    bind = os.environ.get("MANAGER_BIND", "127.0.0.1")
    drain_seconds = float(os.environ.get("MANAGER_DRAIN_SECONDS", "0"))
    draining = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/version":
                self.answer(200, VERSION)
            elif self.path == "/unit":
                # Set by the systemd unit: tells which unit file started it.
                self.answer(200, os.environ.get("MANAGER_UNIT", "none"))
            elif self.path == "/format":
                # The format this node speaks: its own version's, or the
                # pinned older one during a roll.
                self.answer(200, speaks())
            elif self.path == "/whoami":
                self.answer(200, f"{VERSION} {speaks()}")
            elif self.path == "/readyz":
                ok = not never_ready and not draining.is_set() and time.monotonic() >= ready_at
                self.answer(200 if ok else 503, "ready" if ok else "not ready")
                if ok and not crash_armed.is_set() and fault("crash-after-ready"):
                    crash_armed.set()
                    threading.Thread(target=crash_soon, daemon=True).start()
            else:
                self.answer(404, "not found")

        def answer(self, code, body):
            data = (body + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            try:
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # a health check that read the status line and left

        def log_message(self, fmt, *args):
            pass

    server = http.server.ThreadingHTTPServer((bind, port), Handler)
    server.daemon_threads = False

    def crash_soon():
        time.sleep(random.uniform(0.3, 3.0))
        print(f"{COMPONENT} {VERSION}: crashing (fault crash-after-ready-{VERSION})", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    def drain_then_shutdown():
        time.sleep(drain_seconds)
        server.shutdown()

    def stop(signum, _frame):
        name = signal.Signals(signum).name
        if fault("ignore-sigterm"):
            print(f"{COMPONENT} {VERSION}: {name} ignored (fault ignore-sigterm-{VERSION})", flush=True)
            return
        if draining.is_set():
            return
        draining.set()
        print(f"{COMPONENT} {VERSION}: {name}, not ready, draining for {drain_seconds}s", flush=True)
        threading.Thread(target=drain_then_shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGUSR2, stop)
    if not never_ready:
        threading.Thread(target=notify_ready, args=(ready_at,), daemon=True).start()
    print(f"{COMPONENT} {VERSION} listening on {bind}:{port}", flush=True)
    server.serve_forever(poll_interval=0.05)
    server.server_close()
    print(f"{COMPONENT} {VERSION}: stopped", flush=True)


if __name__ == "__main__":
    main()
