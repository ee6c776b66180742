#!/usr/bin/env bash
# bench/timeline-svg.sh BOOT.TSV OUT.SVG: the boot timeline like systemd-analyze plot: for each
# attachment and init, one bar per stage at its median start and median duration (seconds since
# "Run /init"), the kernel's own time before /init as a grey bar left of zero.
set -euo pipefail
tsv=$1 out=$2
awk -F'\t' '
	function median(key,   n, i, j, t, a) {
		n = split(vals[key], a, " ")
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	$4 != "total" {
		g = $1 " / " $2
		if (!(g in seen)) { seen[g] = 1; groups[++ng] = g }
		k = g SUBSEP $4
		if (!(k in sseen)) { sseen[k] = 1; order[g] = order[g] " " $4 }
		vals[k "s"] = vals[k "s"] " " $5; vals[k "d"] = vals[k "d"] " " $6
	}
	END {
		maxt = 0; kmax = 0
		for (i = 1; i <= ng; i++) {
			g = groups[i]; n = split(order[g], st, " ")
			for (j = 1; j <= n; j++) {
				k = g SUBSEP st[j]
				S[k] = median(k "s"); D[k] = median(k "d")
				if (st[j] == "kernel") { if (D[k] > kmax) kmax = D[k] }
				else if (S[k] + D[k] > maxt) maxt = S[k] + D[k]
			}
		}
		if (maxt <= 0) maxt = 1
		kshow = 0.5  # the kernel bar is drawn shortened to this many seconds, its real length written
		scale = 700 / (maxt + kshow); x0 = 170 + kshow * scale
		rows = 0; for (i = 1; i <= ng; i++) rows += split(order[groups[i]], st, " ") + 1
		h = 60 + rows * 16 + 30
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"11\">\n", 170 + 700 + 150, h
		printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		printf "<text x=\"10\" y=\"20\" font-size=\"14\">overlive boot timeline: median stage times, seconds since Run /init (guest clock)</text>\n"
		for (t = 0; t <= maxt + 1e-9; t += (maxt > 4 ? 1 : (maxt > 1 ? 0.5 : 0.1))) {
			x = x0 + t * scale
			printf "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", x, x, h - 25
			printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%.1f s</text>\n", x, h - 10, t
		}
		split("#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 #b07aa1 #ff9da7 #9c755f #bab0ac #86bcb6 #d37295", pal, " ")
		y = 50
		for (i = 1; i <= ng; i++) {
			g = groups[i]; n = split(order[g], st, " ")
			printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\">%s</text>\n", y + 10, g
			y += 16
			for (j = 1; j <= n; j++) {
				k = g SUBSEP st[j]
				if (st[j] == "kernel") {
					printf "<rect x=\"170\" y=\"%d\" width=\"%.1f\" height=\"12\" fill=\"#ccc\"/>\n", y, kshow * scale
					printf "<text x=\"20\" y=\"%d\">kernel before /init</text>\n", y + 10
					printf "<text x=\"%.1f\" y=\"%d\" fill=\"#555\">%.3f s (not to scale)</text>\n", 174, y + 10, D[k]
				} else {
					w = D[k] * scale; if (w < 1) w = 1
					printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"12\" fill=\"%s\"/>\n", x0 + S[k] * scale, y, w, pal[(j - 1) % 12 + 1]
					printf "<text x=\"20\" y=\"%d\">%s</text>\n", y + 10, st[j]
					printf "<text x=\"%.1f\" y=\"%d\" fill=\"#333\">%.3f s</text>\n", x0 + S[k] * scale + w + 4, y + 10, D[k]
				}
				y += 16
			}
		}
		print "</svg>"
	}' "$tsv" > "$out.tmp"
mv -f "$out.tmp" "$out"
