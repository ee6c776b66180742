#!/usr/bin/env bash
# bench/scaling-svg.sh MED.TSV OUT.SVG: persist save and restore time against entries, log-log,
# with a dashed line for linear growth from the smallest upper. MED.TSV: n entries save restore (further columns ignored).
set -euo pipefail
awk -F'\t' '
	{ n++; e[n] = $2; s[n] = $3; r[n] = $4 }
	function lx(v) { return 90 + (log(v) / log(10) - x0) / (x1 - x0) * 560 }
	function ly(v) { return 360 - (log(v) / log(10) - y0) / (y1 - y0) * 300 }
	END {
		if (n == 0) exit 1
		x0 = int(log(e[1]) / log(10)); x1 = int(log(e[n]) / log(10) + 0.999); if (x1 <= x0) x1 = x0 + 1
		lo = 1e9; hi = 0
		for (i = 1; i <= n; i++) { if (s[i] < lo) lo = s[i]; if (r[i] < lo) lo = r[i]; if (s[i] > hi) hi = s[i]; if (r[i] > hi) hi = r[i] }
		if (lo <= 0) lo = 0.001
		y0 = int(log(lo) / log(10)) - 1; y1 = int(log(hi) / log(10) + 0.999); if (y1 <= y0) y1 = y0 + 1
		print "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"420\" font-family=\"sans-serif\" font-size=\"11\">"
		print "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>"
		print "<text x=\"10\" y=\"20\" font-size=\"14\">persist: save and restore time against entries (log-log; dashed = linear from the smallest)</text>"
		for (k = x0; k <= x1; k++) { x = 90 + (k - x0) / (x1 - x0) * 560
			printf "<line x1=\"%.1f\" y1=\"60\" x2=\"%.1f\" y2=\"360\" stroke=\"#ddd\"/><text x=\"%.1f\" y=\"378\" text-anchor=\"middle\">%d</text>\n", x, x, x, 10 ^ k }
		for (k = y0; k <= y1; k++) { y = 360 - (k - y0) / (y1 - y0) * 300
			printf "<line x1=\"90\" y1=\"%.1f\" x2=\"650\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"84\" y=\"%.1f\" text-anchor=\"end\">%g s</text>\n", y, y, y + 4, 10 ^ k }
		print "<text x=\"370\" y=\"400\" text-anchor=\"middle\">entries in the upper</text>"
		split("save restore", nm, " "); split("#4e79a7 #e15759", col, " ")
		for (c = 1; c <= 2; c++) {
			path = ""
			for (i = 1; i <= n; i++) { v = (c == 1) ? s[i] : r[i]; if (v <= 0) v = 0.001
				path = path sprintf("%s%.1f,%.1f ", i == 1 ? "M" : "L", lx(e[i]), ly(v))
				printf "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>\n", lx(e[i]), ly(v), col[c]
				printf "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%.3f s (%.1f µs/entry)</text>\n", lx(e[i]) + 6, ly(v) + (c == 1 ? -6 : 14), col[c], v, v / e[i] * 1e6 }
			printf "<path d=\"%s\" stroke=\"%s\" fill=\"none\" stroke-width=\"2\"/>\n", path, col[c]
			v1 = (c == 1) ? s[1] : r[1]; if (v1 <= 0) v1 = 0.001
			printf "<path d=\"M%.1f,%.1f L%.1f,%.1f\" stroke=\"%s\" stroke-dasharray=\"5,4\" fill=\"none\"/>\n", lx(e[1]), ly(v1), lx(e[n]), ly(v1 * e[n] / e[1]), col[c]
			printf "<rect x=\"665\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"682\" y=\"%d\">%s</text>\n", 60 + c * 20, col[c], 70 + c * 20, nm[c]
		}
		print "</svg>"
	}' "$1" > "$2.tmp"
mv -f "$2.tmp" "$2"
