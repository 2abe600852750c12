#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for vipgen's tests (Debian's aiosmtpd; run with /usr/bin/python3).

    smtp_server.py --mailbox DIR [--port 0] [--tls-cert CERT --tls-key KEY] [--auth-file FILE]
                   [--fault RCPT=KIND]... [--down SECONDS] [--events FILE] [--workers N] [--time-limit SECONDS]

Prints "PORT <n>" on stdout once the port is bound (with --port 0 the system picks a free one). Each accepted
message is written whole into DIR as <time>-<pid>-<n>.eml (through a temporary renamed into place), exactly the
bytes received after the SMTP dot-unstuffing. With --tls-cert/--tls-key, STARTTLS is offered and required before
MAIL. With --auth-file (first line the user name, second the password: never on the command line) AUTH PLAIN or
LOGIN is required. Faults are scripted per recipient address:

    421-once      the first message to RCPT is answered 421 after its DATA and the connection closed; later ones
                  are accepted (a temporary failure, state kept in DIR so every worker agrees)
    550           every message to RCPT is answered 550 after its DATA (a permanent failure)
    drop-in-data  the connection is dropped after the whole message arrived, before any reply (uncertain)

--down SECONDS keeps the port bound but not listening for that long: connections are refused, then it serves.
--events FILE appends one line per event (connect, accepted, fault) for the tests to count. --workers N serves
from N processes sharing the socket. The server exits by itself after --time-limit seconds (default 120), and on
SIGTERM.
"""
import argparse
import asyncio
import hmac
import logging
import os
import signal
import socket
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

FAULT_KINDS = ("421-once", "550", "drop-in-data")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--mailbox", required=True)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--auth-file")
    p.add_argument("--fault", action="append", default=[], metavar="RCPT=KIND")
    p.add_argument("--down", type=float, default=0.0)
    p.add_argument("--events")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=120.0)
    a = p.parse_args()
    if a.host not in ("127.0.0.1", "::1", "localhost"):
        p.error("the test server listens on a loopback address only")
    if bool(a.tls_cert) != bool(a.tls_key):
        p.error("--tls-cert and --tls-key go together")
    faults = {}
    for f in a.fault:
        rcpt, sep, kind = f.rpartition("=")
        if not sep or not rcpt or kind not in FAULT_KINDS:
            p.error(f"--fault {f}: want RCPT=KIND with KIND one of {', '.join(FAULT_KINDS)}")
        faults[rcpt.lower()] = kind
    a.faults = faults
    if a.auth_file:
        with open(a.auth_file, "rb") as fh:
            lines = fh.read().split(b"\n")
        if len(lines) < 2 or not lines[0]:
            p.error(f"{a.auth_file}: want the user name on line 1 and the password on line 2")
        a.user, a.password = lines[0].rstrip(b"\r"), lines[1].rstrip(b"\r")
    return a


class Events:
    def __init__(self, path):
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600) if path else None

    def log(self, *words):
        if self.fd is not None:
            # One write per line with O_APPEND: lines from several workers never interleave.
            os.write(self.fd, (" ".join(str(w) for w in words) + "\n").encode("utf-8", "backslashreplace"))


class Handler:
    def __init__(self, args, events):
        self.mailbox = args.mailbox
        self.faults = args.faults
        self.events = events
        self.count = 0

    def first_time(self, rcpt):
        """True once per recipient across all workers: an exclusive marker file in the mailbox."""
        marker = os.path.join(self.mailbox, ".fault-421-" + rcpt.replace("/", "_"))
        try:
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return True
        except FileExistsError:
            return False

    async def handle_DATA(self, server, session, envelope):
        rcpts = [r.lower() for r in envelope.rcpt_tos]
        kinds = {r: self.faults.get(r) for r in rcpts}
        for rcpt, kind in kinds.items():
            if kind == "550":
                self.events.log("fault 550", rcpt)
                return "550 5.7.1 Message refused by the test server"
            if kind == "421-once" and self.first_time(rcpt):
                self.events.log("fault 421", rcpt)
                asyncio.get_running_loop().call_soon(server.transport.close)
                return "421 4.3.2 Test server busy, try again later"
            if kind == "drop-in-data":
                self.events.log("fault drop", rcpt)
                server.transport.abort()
                return "250 never seen: the connection is gone"
        self.count += 1
        name = f"{time.time_ns()}-{os.getpid()}-{self.count:06d}.eml"
        tmp = os.path.join(self.mailbox, "." + name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.write(envelope.original_content)
        os.rename(tmp, os.path.join(self.mailbox, name))
        self.events.log("accepted", name, envelope.mail_from, *rcpts)
        return f"250 2.0.0 OK queued as {name}"


class Authenticator:
    def __init__(self, user, password, events):
        self.user, self.password, self.events = user, password, events

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and hmac.compare_digest(auth_data.login, self.user)
              and hmac.compare_digest(auth_data.password, self.password))
        self.events.log("auth", mechanism, "ok" if ok else "refused")
        return AuthResult(success=ok, handled=False)


class CountingSMTP(SMTP):
    events = None

    def connection_made(self, transport):
        # Called again with the TLS transport after STARTTLS: one connection is counted once.
        if not getattr(self, "_counted", False):
            self._counted = True
            self.events.log("connect")
        super().connection_made(transport)


def serve(args, sock, listen_delay):
    events = Events(args.events)
    handler = Handler(args, events)
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    auth = Authenticator(args.user, args.password, events) if args.auth_file else None
    CountingSMTP.events = events

    def factory():
        return CountingSMTP(handler, hostname="vipgen-test", ident="vipgen test SMTP server", decode_data=False,
                            tls_context=tls, require_starttls=tls is not None, authenticator=auth,
                            auth_required=auth is not None, auth_require_tls=tls is not None)

    async def main():
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, lambda: stop.done() or stop.set_result(None))
        loop.call_later(args.time_limit, lambda: stop.done() or stop.set_result(None))
        if listen_delay > 0:
            await asyncio.sleep(listen_delay)
        server = await loop.create_server(factory, sock=sock)
        await stop
        server.close()

    asyncio.run(main())


def main():
    # aiosmtpd 1.4 logs a warning about its own use of a deprecated attribute on every AUTH: not ours to fix.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    args = parse_args()
    os.makedirs(args.mailbox, exist_ok=True)
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    # Listening before the port is printed, so a client never races the server; but with --down, bound and not
    # listening for that long: a connection attempt is refused, as by a server that is down.
    if args.down <= 0:
        sock.listen(128)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    started = time.monotonic()
    children = []
    for _ in range(max(args.workers, 1) - 1):
        pid = os.fork()
        if pid == 0:
            try:
                serve(args, sock, args.down - (time.monotonic() - started))
            finally:
                os._exit(0)
        children.append(pid)
    try:
        serve(args, sock, args.down - (time.monotonic() - started))
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


if __name__ == "__main__":
    sys.exit(main())
