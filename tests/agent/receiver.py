#!/usr/bin/env python3
"""Test receivers for the agent's alerts: an HTTP webhook receiver and a tiny SMTP server,
both on 127.0.0.1 with ports picked by the system.

usage: receiver.py DIR [--hold-first SECONDS] [--fail-first N] [--tls CERT KEY]
                   [--syslog SOCKET]
Writes DIR/ports ("HTTP_PORT SMTP_PORT SMTP_PLAIN_PORT SMTPS_PORT"), then for every webhook
POST DIR/arrived.log (a line with the X-Vagt-Alert-Id as soon as a request arrives) and,
once answered, DIR/webhooks.jsonl (the body, one a line); every e-mail is DIR/mail-N.eml,
with a line "mail-N.eml SERVER tls|clear" in DIR/mails.log. Every line any SMTP server
received unencrypted is also appended to DIR/clear.log (what a wiretap would have seen).
--hold-first: hold the first request that long before answering (to kill the agent
during delivery). --fail-first: answer the first N requests with HTTP 503.
--tls: the SMTP server offers STARTTLS with this certificate and key (PEM), and SMTPS_PORT
is a server with TLS from the first byte (smtps://); without it SMTPS_PORT is 0.
SMTP_PLAIN_PORT never offers TLS. --syslog: a unix datagram socket at that path; every
datagram is a line of DIR/syslog.log.
"""
import os
import socket
import socketserver
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

out = sys.argv[1]
hold_first = 0.0
fail_first = 0
tls = None
syslog_path = None
args = sys.argv[2:]
while args:
    if args[0] == "--hold-first":
        hold_first = float(args[1]); args = args[2:]
    elif args[0] == "--fail-first":
        fail_first = int(args[1]); args = args[2:]
    elif args[0] == "--tls":
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args[1], args[2]); args = args[3:]
    elif args[0] == "--syslog":
        syslog_path = args[1]; args = args[2:]
    else:
        sys.exit("unknown option " + args[0])

lock = threading.Lock()
count = {"http": 0, "mail": 0}


def append(name, text):
    with lock:
        with open(os.path.join(out, name), "a", encoding="utf-8") as f:
            f.write(text)


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n).decode("utf-8")
        with lock:
            count["http"] += 1
            k = count["http"]
        append("arrived.log", "%s %s\n" % (self.headers.get("X-Vagt-Alert-Id"),
                                           self.headers.get("Content-Type")))
        if k == 1 and hold_first:
            time.sleep(hold_first)
        if k <= fail_first:
            self.send_response(503)
            self.end_headers()
            return
        append("webhooks.jsonl", body.replace("\n", " ") + "\n")
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


class Smtp(socketserver.StreamRequestHandler):
    def reply(self, line):
        self.wfile.write((line + "\r\n").encode())

    def readline(self):
        l = self.rfile.readline()
        if l and not self.tls:
            with lock:
                with open(os.path.join(out, "clear.log"), "ab") as f:
                    f.write(l)
        return l

    def start_tls(self):
        try:
            conn = tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as e:
            append("tls-errors.log", "%s: %s\n" % (self.server.kind, e))
            return False
        self.connection = self.request = conn
        self.rfile = conn.makefile("rb")
        self.wfile = conn.makefile("wb", buffering=0)
        self.tls = True
        return True

    def handle(self):
        self.tls = False
        if self.server.kind == "smtps" and not self.start_tls():
            return
        self.reply("220 localhost test SMTP")
        while True:
            line = self.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            up = cmd.upper()
            offer = self.server.kind == "starttls" and not self.tls
            if up.startswith("EHLO"):
                self.wfile.write(b"250-localhost\r\n" + (b"250-STARTTLS\r\n" if offer else b"") +
                                 b"250-8BITMIME\r\n250 SIZE 10000000\r\n")
            elif up.startswith("HELO"):
                self.reply("250 localhost")
            elif up == "STARTTLS" and offer:
                self.reply("220 go ahead")
                if not self.start_tls():
                    return
            elif up.startswith("MAIL FROM") or up.startswith("RCPT TO") or up in ("RSET", "NOOP"):
                append("smtp.log", cmd + "\n")
                self.reply("250 OK")
            elif up == "DATA":
                self.reply("354 end with .")
                data = []
                while True:
                    l = self.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                    if l.startswith(b".."):
                        l = l[1:]
                    data.append(l)
                with lock:
                    count["mail"] += 1
                    k = count["mail"]
                with open(os.path.join(out, "mail-%d.eml" % k), "wb") as f:
                    f.write(b"".join(data))
                append("mails.log", "mail-%d.eml %s %s\n" % (k, self.server.kind,
                                                              "tls" if self.tls else "clear"))
                self.reply("250 queued")
            elif up == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class TSmtp(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, kind):
        self.kind = kind
        super().__init__(("127.0.0.1", 0), Smtp)


def syslog_main(sock):
    while True:
        data = sock.recv(65536)
        append("syslog.log", data.decode("utf-8", "replace").replace("\n", " ") + "\n")


http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
http.daemon_threads = True
servers = [TSmtp("starttls" if tls else "plain"), TSmtp("plain")] + ([TSmtp("smtps")] if tls else [])
for srv in servers:
    threading.Thread(target=srv.serve_forever, daemon=True).start()
if syslog_path:
    sl = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sl.bind(syslog_path)
    threading.Thread(target=syslog_main, args=(sl,), daemon=True).start()
ports = [http.server_address[1]] + [srv.server_address[1] for srv in servers] + ([] if tls else [0])
with open(os.path.join(out, "ports.tmp"), "w") as f:
    f.write(" ".join(str(p) for p in ports) + "\n")
os.rename(os.path.join(out, "ports.tmp"), os.path.join(out, "ports"))
http.serve_forever()
