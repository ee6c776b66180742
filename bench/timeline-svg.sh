#!/usr/bin/env bash
# bench/timeline-svg.sh BOOT.TSV OUT.SVG: the boot timeline like systemd-analyze plot, to scale from
# power-on (guest clock): for each attachment and init, the kernel's time before /init, then one
# bar per stage and per module (its finit_module, and its decoding out of the module pack) at its
# median start and median duration; the
# floor (the kernel with a bare /init) beside overlive, and a line at the floor's /init across
# all, so the gap shows at a glance.
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
		if (!(g in seen)) { seen[g] = 1; atts[$1] = atts[$1] " " $2; if (!($1 in aseen)) { aseen[$1] = 1; al[++na] = $1 } }
		k = g SUBSEP $4
		if (!(k in sseen)) { sseen[k] = 1; order[g] = order[g] " " $4 }
		vals[k "s"] = vals[k "s"] " " $5; vals[k "d"] = vals[k "d"] " " $6
	}
	END {
		# groups per attachment: overlive, the floor beside it, then the others
		for (a = 1; a <= na; a++) {
			m = split(atts[al[a]], in_, " ")
			for (pass = 1; pass <= 3; pass++)
				for (i = 1; i <= m; i++)
					if ((pass == 1 && in_[i] == "overlive") || (pass == 2 && in_[i] == "floor") ||
					    (pass == 3 && in_[i] != "overlive" && in_[i] != "floor"))
						groups[++ng] = al[a] " / " in_[i]
		}
		maxt = 0; floor_t = -1
		for (i = 1; i <= ng; i++) {
			g = groups[i]; n = split(order[g], st, " ")
			K[g] = 0
			for (j = 1; j <= n; j++) {
				k = g SUBSEP st[j]
				S[k] = median(k "s"); D[k] = median(k "d")
				if (st[j] == "kernel") K[g] = D[k]
			}
			for (j = 1; j <= n; j++) {
				k = g SUBSEP st[j]
				e = (st[j] == "kernel") ? D[k] : K[g] + S[k] + D[k]
				if (e > maxt) maxt = e
				if (st[j] == "exec" || (st[j] == "kernel" && n == 1)) END_[g] = e
			}
			if (g ~ / \/ floor$/ && floor_t < 0) floor_t = K[g]
		}
		if (maxt <= 0) maxt = 1
		L = 190; Wd = 760
		scale = Wd / maxt
		rows = 0; for (i = 1; i <= ng; i++) rows += split(order[groups[i]], st, " ") + 1
		h = 60 + rows * 15 + 34
		printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"10\">\n", L + Wd + 170, h
		printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
		printf "<text x=\"10\" y=\"20\" font-size=\"14\">boot timeline: median seconds since power-on (guest clock), per stage, per module decoded out of the pack and loaded (finit_module)</text>\n"
		step = maxt > 4 ? 0.5 : (maxt > 1.5 ? 0.25 : 0.1)
		for (t = 0; t <= maxt + 1e-9; t += step) {
			x = L + t * scale
			printf "<line x1=\"%.1f\" y1=\"40\" x2=\"%.1f\" y2=\"%d\" stroke=\"#e4e4e4\"/>\n", x, x, h - 28
			printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" fill=\"#555\">%.2f s</text>\n", x, h - 14, t
		}
		if (floor_t >= 0) {
			x = L + floor_t * scale
			printf "<line x1=\"%.1f\" y1=\"36\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c00\" stroke-dasharray=\"4 3\"/>\n", x, x, h - 28
			printf "<text x=\"%.1f\" y=\"34\" fill=\"#c00\">floor: its /init at %.3f s</text>\n", x + 3, floor_t
		}
		split("#4e79a7 #f28e2b #e15759 #76b7b2 #59a14f #edc948 #b07aa1 #ff9da7 #9c755f #bab0ac #86bcb6 #d37295", pal, " ")
		y = 46
		for (i = 1; i <= ng; i++) {
			g = groups[i]; n = split(order[g], st, " ")
			lab = g
			if (floor_t >= 0 && (g in END_) && g !~ / \/ floor$/)
				lab = sprintf("%s: stage=exec at %.3f s, the floor + %.3f s", g, END_[g], END_[g] - floor_t)
			printf "<text x=\"10\" y=\"%d\" font-weight=\"bold\" font-size=\"11\">%s</text>\n", y + 10, lab
			y += 15
			for (j = 1; j <= n; j++) {
				k = g SUBSEP st[j]
				if (st[j] == "kernel") {
					x = L; w = D[k] * scale; col = "#bbb"; name = (g ~ / \/ floor$/) ? "kernel, to its bare /init" : "kernel, to Run /init"
				} else {
					x = L + (K[g] + S[k]) * scale; w = D[k] * scale
					if (st[j] ~ /^module:/) { col = "#9ab"; name = "  load " substr(st[j], 8) }
					else if (st[j] ~ /^decode:/) { col = "#d9a"; name = "  decode " substr(st[j], 8) }
					else { col = pal[(j - 1) % 12 + 1]; name = st[j] }
				}
				if (w < 1) w = 1
				printf "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"11\" fill=\"%s\"/>\n", x, y, w, col
				printf "<text x=\"20\" y=\"%d\">%s</text>\n", y + 9, name
				printf "<text x=\"%.1f\" y=\"%d\" fill=\"#333\">%.3f s</text>\n", x + w + 4, y + 9, D[k]
				y += 15
			}
		}
		print "</svg>"
	}' "$tsv" > "$out.tmp"
mv -f "$out.tmp" "$out"
