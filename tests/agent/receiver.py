#!/usr/bin/env python3
"""Test receivers for the agent's alerts: an HTTP webhook receiver and a tiny SMTP server,
both on 127.0.0.1 with ports picked by the system.

usage: receiver.py DIR [--hold-first SECONDS] [--fail-first N]
Writes DIR/ports ("HTTP_PORT SMTP_PORT"), then for every webhook POST DIR/arrived.log
(a line with the X-Vagt-Alert-Id as soon as a request arrives) and, once answered,
DIR/webhooks.jsonl (the body, one a line); every e-mail is DIR/mail-N.eml.
--hold-first: hold the first request that long before answering (to kill the agent
during delivery). --fail-first: answer the first N requests with HTTP 503.
"""
import os
import socketserver
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

out = sys.argv[1]
hold_first = 0.0
fail_first = 0
args = sys.argv[2:]
while args:
    if args[0] == "--hold-first":
        hold_first = float(args[1]); args = args[2:]
    elif args[0] == "--fail-first":
        fail_first = int(args[1]); args = args[2:]
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

    def handle(self):
        self.reply("220 localhost test SMTP")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip()
            up = cmd.upper()
            if up.startswith("EHLO"):
                self.wfile.write(b"250-localhost\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n")
            elif up.startswith("HELO"):
                self.reply("250 localhost")
            elif up.startswith("MAIL FROM") or up.startswith("RCPT TO") or up in ("RSET", "NOOP"):
                append("smtp.log", cmd + "\n")
                self.reply("250 OK")
            elif up == "DATA":
                self.reply("354 end with .")
                data = []
                while True:
                    l = self.rfile.readline()
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
                self.reply("250 queued")
            elif up == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class TSmtp(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
http.daemon_threads = True
smtp = TSmtp(("127.0.0.1", 0), Smtp)
threading.Thread(target=smtp.serve_forever, daemon=True).start()
with open(os.path.join(out, "ports.tmp"), "w") as f:
    f.write("%d %d\n" % (http.server_address[1], smtp.server_address[1]))
os.rename(os.path.join(out, "ports.tmp"), os.path.join(out, "ports"))
http.serve_forever()
