#!/usr/bin/env python3
"""Slow clients against the operator pages: N connections from 127.0.0.1, each sending one
byte of a request every PERIOD seconds, are held open; meanwhile an authenticated GET /
must get its page. Prints what happened as key=value lines; exit 0 when the GET got 200 in
under LIMIT seconds while the slow clients were still connected."""
import socket, sys, threading, time, urllib.request

port, token = int(sys.argv[1]), sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 500
period = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
limit = float(sys.argv[5]) if len(sys.argv) > 5 else 2.0

req = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"x" * 10000
socks, stop = [], threading.Event()
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    socks.append(s)


def trickle():
    k = 0
    while not stop.is_set():
        start = time.monotonic()
        for s in socks:
            try:
                s.send(req[k:k + 1])
            except OSError:
                pass
        k += 1
        stop.wait(max(0.0, period - (time.monotonic() - start)))


t = threading.Thread(target=trickle, daemon=True)
t.start()
time.sleep(2 * period + 1)  # every slow client has sent bytes twice: the server holds them


def alive():
    """Connections the server has not closed (a closed one reads EOF or errors)."""
    k = 0
    for s in socks:
        s.setblocking(False)
        try:
            k += s.recv(1) != b""
        except BlockingIOError:
            k += 1
        except OSError:
            pass
        s.setblocking(True)
    return k


before = alive()
r = urllib.request.Request("http://127.0.0.1:%d/" % port,
                           headers={"Authorization": "Bearer " + token})
t0 = time.monotonic()
try:
    with urllib.request.urlopen(r, timeout=60) as resp:
        status, body = resp.status, resp.read()
except Exception as e:  # noqa: BLE001 - report whatever went wrong
    status, body = "error: %s" % e, b""
took = time.monotonic() - t0
after = alive()
stop.set()
print("slow_connected=%d" % n)
print("slow_alive_before=%d" % before)
print("slow_alive_after=%d" % after)
print("get_status=%s" % status)
print("get_seconds=%.3f" % took)
print("get_has_page=%d" % (b"vagt agent" in body))
ok = status == 200 and took < limit and b"vagt agent" in body and after == n
sys.exit(0 if ok else 1)
