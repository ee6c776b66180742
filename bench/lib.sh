# bench/lib.sh: helpers shared by the bench scripts (sourced): clocks, medians, ratios, report rows,
# growth tables.
# Every script writes its part of the report to $B/NAME.md and says what it could not measure.
: "${TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${O:=$TOP/out}"
: "${B:=$O/bench}"
: "${BENCH_FULL:=0}"
mkdir -p "$B"

say() { printf 'bench: %s\n' "$*" >&2; }
now() { date +%s.%N; }
# elapsed START: seconds since START (from now), 3 decimals
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
# timeit VAR CMD...: runs CMD, puts its wall time in seconds into VAR; returns CMD's status
timeit() {
	local __v=$1 __t __r
	shift
	__t=$(now)
	"$@"
	__r=$?
	printf -v "$__v" '%s' "$(elapsed "$__t")"
	return $__r
}
# median of the numbers on stdin (one a line); "-" when there are none
median() { sort -g | awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; if (m == int(m)) print m; else printf "%.3f\n", m }'; }
# ratio A B: A/B with 2 decimals, "-" when either is missing or B is 0
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "" || b + 0 == 0) print "-"; else { r = a / b; if (r != 0 && r < 0.01) printf "%.2e\n", r; else printf "%.2f\n", r } }'; }
# fmt_s SECONDS: "1.234 s" (or "-")
fmt_s() { [ "$1" = - ] || [ -z "$1" ] && echo - || echo "$1 s"; }
# row CELLS...: one markdown table row
row() { local IFS='|'; printf '| %s |\n' "$*" | sed 's/|/ | /g; s/^ | /| /; s/ |  |$/ |/'; }
# note TEXT: a line for the report's "could not measure" list (and the terminal)
note() { say "$*"; printf -- '- %s\n' "$*" >> "$B/notes.md"; }

# make_floor DIR [KO...]: DIR/initramfs.img, the floor (bench/floor-init.c static as /init, nothing else:
# what any initramfs pays before its first instruction); it prints "peers: uptime SECONDS" and
# powers off. With KO files (uncompressed, signed, from the kernel's tree), the module floor: its
# /init loads them first (/modules.list), so that its uptime is what loading a boot's drivers
# costs the kernel itself. bench/peers.sh and bench/boot.sh boot it. Needs $O/bin/mkcpio; 1 when it fails.
make_floor() {
	local dir=$1 ko
	shift
	mkdir -p "$dir" &&
		"${MUSLCC:-musl-gcc}" -static -Os -o "$dir/init" "$TOP/bench/floor-init.c" &&
		printf '%s\n' 'dir /dev 0755 0 0' 'nod /dev/console 0600 0 0 c 5 1' 'dir /proc 0755 0 0' \
			"file /init $dir/init 0755 0 0" > "$dir/initramfs.spec" || return 1
	if [ $# -gt 0 ]; then
		echo 'dir /modules 0755 0 0' >> "$dir/initramfs.spec"
		: > "$dir/modules.list"
		for ko; do
			[ -f "$ko" ] || return 1
			echo "file /modules/$(basename "$ko") $ko 0644 0 0" >> "$dir/initramfs.spec"
			echo "/modules/$(basename "$ko")" >> "$dir/modules.list"
		done
		echo "file /modules.list $dir/modules.list 0644 0 0" >> "$dir/initramfs.spec"
	fi
	"$O/bin/mkcpio" -o "$dir/initramfs.img" "$dir/initramfs.spec"
}

# Growth tables (bench/scaling.sh): every series goes through these, so "flagged" means one thing.
# medians RAW.TSV: one line per size (column 1, in first-seen order): the size, its count (column
# 2), then the median of each further column over that size's lines, in seconds
medians() {
	awk -F'\t' -v OFS='\t' '{ k = $1; if (!(k in nf)) { ord[++n] = k; cnt[k] = $2; nf[k] = NF } for (c = 3; c <= NF; c++) v[k, c] = v[k, c] " " $c }
	function med(str,   a, m, i, j, t) { m = split(str, a, " "); for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t } return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
	END { for (i = 1; i <= n; i++) { k = ord[i]; line = k OFS cnt[k]; for (c = 3; c <= nf[k]; c++) line = line OFS sprintf("%.4f", med(v[k, c])); print line } }' "$1"
}

# cost_table MED.TSV COUNT UNIT COL:NAME...: one series' table, a row per size of MED.TSV (as
# medians writes it). For each measure (the time in column COL): the time, the cost per UNIT
# (time / count), its ratio to the cost per UNIT at the smallest size, and the marginal cost (of
# each UNIT added since the previous size, free of fixed costs). Growth: **super-linear** when a
# ratio, or a marginal cost against the previous step's, is above 1.5 (1.0-1.5 is noise).
cost_table() {
	local med=$1 count=$2 unit=$3 spec cols="" names="" hdr sep="|---"
	shift 3
	hdr="| $count"
	for spec; do
		cols+=" ${spec%%:*}" names+="${spec#*:}|"
		hdr+=" | ${spec#*:} | per $unit | ratio to smallest | marginal per $unit" sep+="|---|---|---|---"
	done
	echo "$hdr | growth |"
	echo "$sep|---|"
	awk -F'\t' -v cols="$cols" -v names="$names" '
		BEGIN { m = split(cols, col, " "); split(names, nm, "|") }
		{ sl = 0; cells = ""; gro = ""
		  for (j = 1; j <= m; j++) {
			t = $(col[j]); p = t / $2
			if (NR == 1) base[j] = p
			r = (base[j] > 0) ? p / base[j] : 0
			mc = (NR > 1 && $2 != lc) ? (t - lt[j]) / ($2 - lc) : 0
			mg = (NR == 1) ? "-" : sprintf("%.1f µs", mc * 1e6)
			g = (NR > 2 && pm[j] > 0) ? mc / pm[j] : 0
			if (r > 1.5 || g > 1.5) sl = 1
			if (NR > 2) gro = gro sprintf("%s%s %s", j > 1 ? ", " : "", nm[j], pm[j] > 0 ? sprintf("%.2f", g) : "-")
			if (NR > 1) pm[j] = mc
			lt[j] = t
			cells = cells sprintf(" %.3f s | %.1f µs | %.2f | %s |", t, p * 1e6, r, mg)
		  }
		  flag = sl ? "**super-linear**" : (NR == 1 ? "baseline" : "linear (not above 1.5)")
		  if (NR > 2) flag = flag " (marginal vs previous: " gro ")"
		  printf "| %d |%s %s |\n", $2, cells, flag
		  lc = $2 }' "$med"
}

# ratio_table A.TSV B.TSV COUNT A B COL:NAME...: for each size in both medians files, each
# measure's time in A and in B and A / B; **super-linear** when a ratio is above 1.5 and above 1.5
# times the ratio at the smallest size (A grows faster than its baseline B measured in the same
# run; both, so that a small size's noisy low ratio alone does not flag parity at the next).
ratio_table() {
	local a=$1 b=$2 count=$3 an=$4 bn=$5 spec cols="" hdr sep="|---"
	shift 5
	hdr="| $count"
	for spec; do
		cols+=" ${spec%%:*}"
		hdr+=" | ${spec#*:}: $an | $bn | ratio" sep+="|---|---|---"
	done
	echo "$hdr | growth |"
	echo "$sep|---|"
	awk -F'\t' -v cols="$cols" '
		BEGIN { m = split(cols, col, " ") }
		FNR == NR { for (j = 1; j <= m; j++) bt[$1, j] = $(col[j]); seen[$1] = 1; next }
		$1 in seen { sl = 0; cells = ""; n++
		  for (j = 1; j <= m; j++) {
			t = $(col[j]); u = bt[$1, j]; r = (u > 0) ? t / u : 0
			if (n == 1) base[j] = r
			if (r > 1.5 && base[j] > 0 && r / base[j] > 1.5) sl = 1
			cells = cells sprintf(" %.3f s | %.3f s | %.2f |", t, u, r)
		  }
		  printf "| %d |%s %s |\n", $2, cells, sl ? "**super-linear**" : (n == 1 ? "baseline" : "linear (not above 1.5)") }' "$b" "$a"
}
