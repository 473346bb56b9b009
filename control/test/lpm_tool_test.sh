#!/usr/bin/env bash
# edgefwd-lpm lookup against a small route file: longest match wins, no-route
# answers '-', --family restricts, a bad route file fails with its location.
set -euo pipefail
tool=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/r.routes" <<'R'
0.0.0.0/0 transit-a
10.0.0.0/8 peer-x
10.1.0.0/16 cdn-1   # more specific
2001:db8::/32 peer-x
R
printf '10.1.2.3\n10.2.0.1\n8.8.8.8\n2001:db8::1\n2001:dead::1\n' \
  | "$tool" lookup --routes "$dir/r.routes" >"$dir/out"
cat >"$dir/want" <<'W'
10.1.2.3 10.1.0.0/16 cdn-1
10.2.0.1 10.0.0.0/8 peer-x
8.8.8.8 0.0.0.0/0 transit-a
2001:db8::1 2001:db8::/32 peer-x
2001:dead::1 - -
W
diff -u "$dir/want" "$dir/out"

printf '2001:db8::1\n' | "$tool" lookup --routes "$dir/r.routes" --family 6 >"$dir/out6"
[ "$(cat "$dir/out6")" = "2001:db8::1 2001:db8::/32 peer-x" ]
# An IPv4 address with --family 6 is refused (exit 1, message on stderr).
if printf '10.1.2.3\n' | "$tool" lookup --routes "$dir/r.routes" --family 6 >/dev/null 2>"$dir/err"; then
  echo "expected failure for IPv4 address with --family 6"; exit 1
fi
grep -q "stdin:1: address" "$dir/err"

printf '10.0.0.0/8 a\n10.0.0.1/8 b\n' >"$dir/bad.routes"
if "$tool" lookup --routes "$dir/bad.routes" </dev/null 2>"$dir/err"; then
  echo "expected failure for bad route file"; exit 1
fi
grep -q "bad.routes:2: prefix: '10.0.0.1/8' has host bits set" "$dir/err"
echo ok
