#!/usr/bin/env bash
# vipgen serve: a real headless Chromium (DevTools protocol, tests/browser/live_preview.mjs) loads the preview,
# the station page (tests/browser/station.mjs) makes booklets from an officer's form,
# the catalogue is saved with a changed unit, and the open page shows the new text and its problem; pages need no
# network, run right to left for Farsi and are keyboard-usable. Then hostile requests — path traversal (plain,
# encoded, through a symlink), bodies large and small, other methods, a huge header, a foreign Host, hundreds of
# connections at once, idle ones — each get a 4xx or are cut off, and the server keeps serving.
. "$(dirname "$0")/lib.sh"

py=/usr/bin/python3
cp translations/fa.xlf "$tmp/fa.xlf"
"$vipgen" serve --lang fa --catalog "$tmp/fa.xlf" --port 0 --dir "$tmp/serve" >"$tmp/out" 2>"$tmp/err" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 300); do grep -q 'http://' "$tmp/out" && break; kill -0 $server 2>/dev/null || break; sleep 0.1; done
port=$(sed -n 's|.*http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$tmp/out")
if [ -z "$port" ]; then
    fail "serve starts" "no address printed: $(tail -3 "$tmp/err")"
    exit 1
fi
pass "serve starts on 127.0.0.1:$port"
# The kernel's table of listening sockets: 127.0.0.1 (0100007F) on the port, and no other address.
listening=$(awk -v p="$(printf '%04X' "$port")" '$4 == "0A" && $2 ~ (":" p "$") { print $2 }' /proc/net/tcp /proc/net/tcp6)
check "serve listens on the loopback address only" "[ '$listening' = '0100007F:$(printf '%04X' "$port")' ]" \
    "listening on: $listening"

# The browser: the page, a change, the new text and its problem on the open page.
# Node's own WebSocket: behind a flag from Node 20.10, built in from 22.
node_ws=
for flag in --experimental-websocket ""; do
    if command -v node >/dev/null && node $flag -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
        node_ws="node $flag"
        break
    fi
done
if [ -x /usr/bin/chromium ] && [ -n "$node_ws" ]; then
    mkdir -p "$tmp/shots"
    PREVIEW_RTL=1 timeout 120 $node_ws tests/browser/live_preview.mjs "http://127.0.0.1:$port/" \
        "$tmp/fa.xlf" letter.thanks "از گزارش شما سپاسگزاریم  ZEBRA77." ZEBRA77 double-space "$tmp/shots"
    check "browser screenshots taken" "[ -s '$tmp/shots/index-after.png' ] && [ -s '$tmp/shots/page.png' ]" \
        "no screenshots"
    # The station page: an officer makes the booklet for the victim in front of them (issue 11).
    timeout 180 $node_ws tests/browser/station.mjs "http://127.0.0.1:$port/station" "$tmp/shots"
else
    fail "browser" "chromium, or a Node.js with WebSocket (20.10 or later), missing"
fi

# A save that breaks the catalogue: the page says why (and what check finds); the next good save brings it back.
$py - "$port" "$tmp/fa.xlf" <<'EOF'
import json, os, sys, time, urllib.request
port, path = int(sys.argv[1]), sys.argv[2]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
def get(name):
    return opener.open('http://127.0.0.1:%d/%s' % (port, name), timeout=10).read()
def save_and_wait(text):
    gen = json.loads(get('status.json'))['generation']
    open(path + '.saving', 'w', encoding='utf-8').write(text)
    os.replace(path + '.saving', path)
    for _ in range(300):
        st = json.loads(get('status.json'))
        if st['generation'] > gen:
            return st
        time.sleep(0.05)
    return None
good = open(path, encoding='utf-8').read()
st = save_and_wait(good.replace('</xliff>', ''))
index = get('').decode('utf-8')
print(('PASS' if st and not st['ok'] and 'could not be made' in index and 'xml' in index.lower() else 'FAIL') +
      ' a broken save is shown as an error on the page' + ('' if st and not st['ok'] else ': %r' % st))
st = save_and_wait(good)
print(('PASS' if st and st['ok'] else 'FAIL') + ' the next good save is previewed again' +
      ('' if st and st['ok'] else ': %r' % st))
EOF

# Raw HTTP, from Python's socket module: what a hostile client sends, byte for byte.
$py - "$port" "$tmp/serve" <<'EOF'
import os, socket, sys, threading, time
port, base = int(sys.argv[1]), sys.argv[2]
def result(name, ok, why=''):
    print(('PASS %s' % name) if ok else ('FAIL %s: %s' % (name, why)))
def request(raw, timeout=10):
    s = socket.create_connection(('127.0.0.1', port), timeout=timeout)
    try:
        s.sendall(raw)
        data = b''
        while True:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()
def status(data):
    try:
        return int(data.split(b' ', 2)[1])
    except Exception:
        return 0
def get(path, host=b'127.0.0.1', extra=b''):
    return request(b'GET ' + path + b' HTTP/1.1\r\nHost: ' + host + b'\r\nConnection: close\r\n' + extra + b'\r\n')

ok = get(b'/')
result('GET / answers the index', status(ok) == 200 and b'<html' in ok, ok[:200])
for path in [b'/../../../../etc/passwd', b'/%2e%2e/%2e%2e/etc/passwd', b'/..%2f..%2fetc%2fpasswd',
             b'/%2fetc%2fpasswd', b'//etc/passwd', b'/index.html/../../x', b'/.index.html.vipgen-tmp.x',
             b'/g1/index.html', b'/index.html%00.png', b'/\xff\xfe.html', b'/' + b'a' * 5000 + b'.html']:
    d = get(path)
    result('traversal %r: 4xx, no file outside' % path[:40], 400 <= status(d) < 500 and b'root:' not in d,
           d[:120])
# A symlink planted in the served folder is not followed.
gens = sorted(int(n[1:]) for n in os.listdir(base) if n.startswith('g'))
os.symlink('/etc/passwd', os.path.join(base, 'g%d' % gens[-1], 'planted.html'))
d = get(b'/planted.html')
result('a symlink in the folder is not followed', status(d) == 404 and b'root:' not in d, d[:120])
d = get(b'/', host=b'attacker.example')
result('a foreign Host header is refused (DNS rebinding)', status(d) == 421, d[:120])
for method in [b'POST', b'PUT', b'DELETE', b'TRACE', b'OPTIONS']:
    d = request(method + b' / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello')
    result('%s refused with 405' % method.decode(), status(d) == 405, d[:120])
d = request(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 11\r\nConnection: close\r\n\r\nhello world')
result('a GET with a body refused with 413', status(d) == 413, d[:120])
# A huge body: answered (or cut off) at once, never read to the end.
s = socket.create_connection(('127.0.0.1', port), timeout=10)
s.sendall(b'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000000\r\n\r\n')
sent, start, answer = 0, time.time(), b''
try:
    while sent < 50_000_000 and time.time() - start < 10:
        s.sendall(b'x' * 65536)
        sent += 65536
except OSError:
    pass
try:
    answer = s.recv(4096)
except OSError:
    pass
s.close()
result('a 1 GB body is refused without being read (%d MB sent)' % (sent >> 20),
       sent < 50_000_000 and (answer == b'' or 400 <= status(answer) < 500), answer[:120])
d = request(b'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ' + b'a' * 200000 + b'\r\n\r\n')
result('a 200 kB header is refused', d == b'' or 400 <= status(d) < 500, d[:120])
d = request(b'\x16\x03\x01\x02\x00garbage not http\r\n\r\n')
result('garbage gets a 4xx or is closed', d == b'' or 400 <= status(d) < 500, d[:120])
# Many connections at once, some idle: the server stays up and answers afterwards.
idle = []
for _ in range(300):
    try:
        idle.append(socket.create_connection(('127.0.0.1', port), timeout=2))
    except OSError:
        break
def hammer(out):
    try:
        out.append(status(get(b'/status.json')))
    except OSError:
        out.append(0)
answers = []
threads = [threading.Thread(target=hammer, args=(answers,)) for _ in range(100)]
for t in threads: t.start()
for t in threads: t.join()
for c in idle: c.close()
result('300 idle connections and 100 requests at once: no crash (%d answered 200)' % answers.count(200),
       all(a in (0, 200) for a in answers), answers)
time.sleep(0.5)
d = get(b'/status.json')
result('still serving after all that', status(d) == 200 and b'"generation"' in d, d[:200])
EOF
check "server still running" "kill -0 $server" "it exited: $(tail -3 "$tmp/err")"

# Stops cleanly on SIGTERM and removes nothing but its own folders' contents.
kill -TERM $server
for _ in $(seq 1 50); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
check "stops on SIGTERM" "! kill -0 $server 2>/dev/null" "still running"
