#!/usr/bin/env python3
"""A real S3-compatible server on 127.0.0.1 for hop's tests: moto's server
with authentication on (every request after set-up must be signed by the
access key made here). Prints one JSON line (endpoint, bucket, access key,
secret key) once it is ready, then serves until killed.

    python3 s3_server.py --bucket packages [--throttle BYTES_PER_SECOND]

With --throttle the endpoint printed is a proxy in front of moto that
sends the server's answers to the client at that rate (what a slow link
does to a long download); requests pass through as they are.
"""
import argparse
import json
import os
import socket
import sys
import threading
import time

# moto reads this when it is imported: the first four actions (the set-up
# below) run unauthenticated, every later request is checked.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "4"

try:
    import boto3
    from moto.server import ThreadedMotoServer
    import moto.core.authorization as authorization
except ImportError:
    sys.exit("the S3 test server needs moto: pip install 'moto[server]' (scripts/deps.sh does)")

from urllib.parse import parse_qsl, quote, urlparse


def _urlparse_as_aws_signs(uri):
    """moto checks a signature against the request's query as its server
    decoded it (`prefix=releases/`), while SigV4 signs every query value
    percent-encoded (`prefix=releases%2F`), as boto3 and rust-s3 do and AWS
    checks: a listing under a prefix fails in moto alone. Encode the
    query again as AWS does before moto canonicalises it."""
    parts = urlparse(uri)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs
    )
    return parts._replace(query=query)


authorization.urlparse = _urlparse_as_aws_signs


def throttle(upstream_port, rate):
    """A proxy on 127.0.0.1 forwarding to moto, the answers at `rate` B/s."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)

    def pipe(src, dst, limited):
        step = max(1, rate // 10)
        try:
            while True:
                data = src.recv(step if limited else 65536)
                if not data:
                    break
                dst.sendall(data)
                if limited:
                    time.sleep(len(data) / rate)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve():
        while True:
            client, _ = listener.accept()
            server = socket.create_connection(("127.0.0.1", upstream_port))
            threading.Thread(target=pipe, args=(client, server, False), daemon=True).start()
            threading.Thread(target=pipe, args=(server, client, True), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--upload", action="append", default=[], metavar="KEY=FILE",
                        help="put FILE into the bucket as KEY once the server runs")
    parser.add_argument("--throttle", type=int, metavar="BYTES_PER_SECOND",
                        help="serve the answers through a proxy at this rate")
    args = parser.parse_args()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    setup = dict(endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="setup", aws_secret_access_key="setup")
    iam = boto3.client("iam", **setup)
    iam.create_user(UserName="hop")
    key = iam.create_access_key(UserName="hop")["AccessKey"]
    iam.put_user_policy(UserName="hop", PolicyName="s3", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }))
    boto3.client("s3", **setup).create_bucket(Bucket=args.bucket)
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=key["AccessKeyId"],
                      aws_secret_access_key=key["SecretAccessKey"])
    for item in args.upload:
        name, _, path = item.partition("=")
        with open(path, "rb") as f:
            s3.put_object(Bucket=args.bucket, Key=name, Body=f)
    if args.throttle:
        endpoint = f"http://127.0.0.1:{throttle(port, args.throttle)}"
    print(json.dumps({
        "endpoint": endpoint,
        "bucket": args.bucket,
        "access_key": key["AccessKeyId"],
        "secret_key": key["SecretAccessKey"],
    }), flush=True)
    try:
        server._thread.join()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
