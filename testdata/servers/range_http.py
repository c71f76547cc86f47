#!/usr/bin/env python3
"""A small HTTP(S) file server for hop's delivery tests and benchmark:
serves a directory with ETag, Range (bytes=N- / N-M) and If-Range, like a
CDN in front of a bucket. It can cut the first full download of each file
partway (a dropped connection), or stall it (the connection stays open and
nothing more is sent) once or on every GET, and logs each GET with its
Range header.
Prints one JSON line ({"port": N}) once it listens.

    python3 range_http.py --dir DIR [--tls CERT KEY] [--cut-once 0.5]
        [--stall-once 0.5 | --stall-always 0.5] [--log FILE]
"""
import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 20


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, line):
        if self.server.log:
            with self.server.lock, open(self.server.log, "a") as f:
                f.write(line + "\n")

    def target(self):
        name = self.path.split("?", 1)[0].lstrip("/")
        path = os.path.realpath(os.path.join(self.server.dir, name))
        if not path.startswith(self.server.dir + os.sep) or not os.path.isfile(path):
            return None
        return path

    def do_HEAD(self):
        self.serve(body=False)

    def do_GET(self):
        self.serve(body=True)

    def serve(self, body):
        path = self.target()
        if path is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        st = os.stat(path)
        size = st.st_size
        etag = '"%x-%x"' % (st.st_mtime_ns, size)
        start, end = 0, size - 1
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        partial = False
        if rng and rng.startswith("bytes=") and (if_range is None or if_range == etag):
            first, _, last = rng[len("bytes="):].partition("-")
            start = int(first)
            end = int(last) if last else size - 1
            partial = True
        if body:
            self.record("GET %s range=%s" % (self.path.split("?", 1)[0], rng or "-"))
        if partial and start >= size:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(206 if partial else 200)
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if not body:
            return
        stop = end + 1
        with self.server.lock:
            cut = (not partial and self.server.cut is not None
                   and path not in self.server.cut_done)
            if cut:
                self.server.cut_done.add(path)
            stall = self.server.stall_always is not None or (
                not partial and self.server.stall_once is not None
                and path not in self.server.stall_done)
            if stall:
                self.server.stall_done.add(path)
        if cut:
            stop = start + int((end - start + 1) * self.server.cut)
        if stall:
            fraction = self.server.stall_always or self.server.stall_once
            stop = start + int((end - start + 1) * fraction)
        with open(path, "rb") as f:
            f.seek(start)
            left = stop - start
            while left > 0:
                data = f.read(min(CHUNK, left))
                if not data:
                    break
                self.wfile.write(data)
                left -= len(data)
        if cut:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif stall:
            self.wfile.flush()
            time.sleep(600)
            self.close_connection = True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--cut-once", type=float, help="cut each file's first full GET at this fraction")
    parser.add_argument("--stall-once", type=float, help="stall each file's first full GET at this fraction")
    parser.add_argument("--stall-always", type=float, help="stall every GET at this fraction of what it sends")
    parser.add_argument("--log")
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.dir = os.path.realpath(args.dir)
    server.cut = args.cut_once
    server.cut_done = set()
    server.stall_once = args.stall_once
    server.stall_always = args.stall_always
    server.stall_done = set()
    server.log = args.log
    server.lock = threading.Lock()
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
