#!/usr/bin/env bash
# Measures the dashboard under the load the hall's network can bring:
# /api/stats asked every 20 ms while two attendance-list PDFs, a report PDF
# and an XLSX of ROSTER delegates are drawn and 100 wrong PINs arrive.
#   tools/bench_dashboard.sh [ROSTER]     (default 20000 delegates)
# Prints the latency of /api/stats quiet and under that load (target: p95 <= 50 ms),
# the page and its three pictures (target: the page with its charts <= 200 ms),
# and `kiosk hall` (target: <= 1 s for 300 seats).
set -euo pipefail
cd "$(dirname "$0")/.."
roster="${1:-20000}"
cargo build --release -q
dir=$(mktemp -d /tmp/kiosk-bench-dashboard.XXXXXX)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/roster.csv" "$roster" <<'PY'
import sys
families = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("code,name,delegation,seat,photo\n")
    for i in range(int(sys.argv[2])):
        f.write(f"D{i:05d},{families[i % 8]} Văn {i},Công đoàn {i % 40},{chr(65 + i % 20)}-{i % 50 + 1},\n")
PY
mkdir "$dir/photos"
target/release/kiosk enroll --db "$dir/big.db" --roster "$dir/roster.csv" --photos "$dir/photos" >/dev/null 2>&1
target/release/kiosk session add "Phiên 1" --db "$dir/big.db" >/dev/null
# A tenth present (at most 300), so that the pictures have arrivals to draw.
for i in $(seq 0 $(( roster / 10 > 300 ? 300 : roster / 10 )) | tail -n +2); do
  target/release/kiosk checkin --db "$dir/big.db" --session "Phiên 1" --code "$(printf 'D%05d' $((i * 7)))" --reason bench >/dev/null
done
for out in hall.svg hall.pdf; do
  start=$(date +%s.%N)
  target/release/kiosk hall --db "$dir/big.db" --session "Phiên 1" --out "$dir/$out" >/dev/null
  echo "kiosk hall --out $out, $roster delegates: $(echo "($(date +%s.%N) - $start) * 1000" | bc | cut -d. -f1) ms, $(stat -c %s "$dir/$out") bytes"
done
printf '[kiosk]\nadmin_pin_hash = "%s"\n' "$(echo 24681357 | target/release/kiosk admin-pin 2>/dev/null | sed -n 's/^admin_pin_hash = "\(.*\)"$/\1/p')" >"$dir/kiosk.toml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$dir" "$port" <<'PY'
import subprocess, sys, threading, time, urllib.error, urllib.parse, urllib.request
d, port = sys.argv[1], sys.argv[2]
kiosk = "target/release/kiosk"
base = f"http://127.0.0.1:{port}"
said = subprocess.run([kiosk, "dashboard", "key", "--db", f"{d}/big.db", "--listen", f"127.0.0.1:{port}"],
                      capture_output=True, text=True, check=True).stdout
key = said.split("viewer key: ")[1].split()[0]
server = subprocess.Popen([kiosk, "dashboard", "--db", f"{d}/big.db", "--config", f"{d}/kiosk.toml",
                           "--session", "Phiên 1", "--listen", f"127.0.0.1:{port}"], stderr=subprocess.DEVNULL)
def ask(path, data=None):
    r = urllib.request.Request(base + path, data=data, headers={"Cookie": "kiosk_view=" + key, "Origin": base})
    try:
        with urllib.request.urlopen(r, timeout=120) as f:
            return f.status, f.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
try:
    for _ in range(100):
        try:
            ask("/api/stats")
            break
        except OSError:
            time.sleep(0.1)
    s = "session=" + urllib.parse.quote("Phiên 1")
    def timed():
        t = time.time(); ask("/api/stats?" + s); return (time.time() - t) * 1000
    quiet = [timed() for _ in range(50)]
    q = lambda v, x: sorted(v)[int(x * (len(v) - 1))]
    for path in ["/", "/arrivals.svg", "/delegations.svg", "/hall.svg"]:
        took, size = [], 0
        for _ in range(20):
            t = time.time(); status, body = ask(path + "?" + s); took.append((time.time() - t) * 1000); size = len(body)
        print(f"{path}: HTTP {status}, {size / 1e3:.0f} KB, p50 {q(took, .5):.1f} ms, p95 {q(took, .95):.1f} ms")
    # As a browser loads it: the page, then its three pictures at once.
    def whole():
        t = time.time(); ask("/?" + s)
        fetch = [threading.Thread(target=ask, args=(p + "?" + s,)) for p in ["/arrivals.svg", "/delegations.svg", "/hall.svg"]]
        for f in fetch: f.start()
        for f in fetch: f.join()
        return (time.time() - t) * 1000
    took = [whole() for _ in range(20)]
    print(f"the page with its pictures: p50 {q(took, .5):.1f} ms, p95 {q(took, .95):.1f} ms (target <= 200 ms)")
    loaded, stop = [], False
    def poll():
        while not stop:
            loaded.append(timed()); time.sleep(0.02)
    def paper(p):
        t = time.time(); status, body = ask(f"/{p}?{s}")
        print(f"  {p}: HTTP {status}, {len(body) / 1e6:.1f} MB in {time.time() - t:.1f} s")
    def pins():
        form = urllib.parse.urlencode({"session": "Phiên 1", "code": "D00001", "pin": "0000", "lang": "en"}).encode()
        got = [ask("/checkin", form)[0] for _ in range(100)]
        print("  100 wrong PINs answered:", ", ".join(f"{got.count(c)}x {c}" for c in sorted(set(got))))
    poller = threading.Thread(target=poll); poller.start()
    work = [threading.Thread(target=paper, args=(p,)) for p in ["list.pdf", "list.pdf", "report.pdf", "list.xlsx"]]
    work.append(threading.Thread(target=pins))
    t0 = time.time()
    for w in work: w.start()
    for w in work: w.join()
    stop = True; poller.join()
    q = lambda v, x: sorted(v)[int(x * (len(v) - 1))]
    print(f"/api/stats quiet: p50 {q(quiet, .5):.1f} ms, p95 {q(quiet, .95):.1f} ms")
    print(f"/api/stats under load ({time.time() - t0:.1f} s, {len(loaded)} asks): p50 {q(loaded, .5):.1f} ms, "
          f"p95 {q(loaded, .95):.1f} ms, max {max(loaded):.1f} ms (target p95 <= 50 ms)")
finally:
    server.terminate()
PY
