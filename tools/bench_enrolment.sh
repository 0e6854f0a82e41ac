#!/usr/bin/env bash
# Times a whole-union enrolment: a roster of N delegates (default 85 000)
# whose photos are the real face photos of ../shared/faces (or $KIOSK_FACES),
# repeated to reach the count, enrolled into a fresh database.
# Usage: tools/bench_enrolment.sh [N]   (prints the timing; the output is in $work)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-85000}"
faces="${KIOSK_FACES:-../shared/faces}"
if [ ! -d "$faces" ]; then
  echo "no face photos at $faces: set KIOSK_FACES to a folder of face photos" >&2
  exit 1
fi
faces="$(realpath "$faces")"
tools/setup.sh
cargo build --release --quiet
work="$(mktemp -d /tmp/kiosk-enrolment.XXXXXX)"
(cd "$faces" && find . -name '*.jpg' | sort) > "$work/photos.txt"
awk -v n="$n" '
  { photo[NR] = substr($0, 3) }
  END {
    print "code,name,delegation,seat,photo"
    for (i = 0; i < n; i++)
      printf "D%06d,Đại biểu Số %d,Công đoàn %d,%d,%s\n", i, i, i % 63, i % 500 + 1, photo[i % NR + 1]
  }' "$work/photos.txt" > "$work/roster.csv"
echo "roster of $n delegates over $(wc -l < "$work/photos.txt") photos in $work/roster.csv"
start=$(date +%s)
/usr/bin/time -v target/release/kiosk enroll --db "$work/union.db" --roster "$work/roster.csv" \
  --photos "$faces" --report "$work/report.csv" > "$work/enroll.out" 2> "$work/time.txt"
end=$(date +%s)
tail -n 1 "$work/enroll.out"
grep -E "Maximum resident|Elapsed" "$work/time.txt"
echo "import + enrolment + lookalike audit of $n delegates: $((end - start)) s"
