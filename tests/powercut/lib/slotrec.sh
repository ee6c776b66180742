# slotrec.sh: the slot record as `overlive-update --status` reads it, in one short form, for the
# update campaign's guest side (workload.sh, installed as /usr/lib/pc-slotrec.sh) and its host
# check (pc-check update). Sourced; POSIX sh.
#   ... | slotrec_canon   --status's output on stdin: prints G/GOOD/PENDING/TRIES (generation,
#                         slot A or B, - for none), "none" (no record yet) or "damaged"
slotrec_canon() {
	sed -n -e 's|^record: good \([AB]\), pending \([AB]\) with \([0-9]*\) tr[a-z]* left (generation \([0-9]*\))$|\4/\1/\2/\3|p' \
		-e 's|^record: good \([AB]\), nothing pending (generation \([0-9]*\))$|\2/\1/-/0|p' \
		-e 's|^record: none .*|none|p' -e 's|.*unable to use the slot record .*: it is damaged .*|damaged|p' | head -n 1
}
