# slotrec-od.sh: the slot record read with od, from docs/updates.md's tables (not our decoder), for
# the boot tests (sourced).
#   slotrec_od FILE   the newest copy of live/slots in FILE as "generation good pending tries
#                     save_boots save_good" (the save's part 0 0 in a version 1 copy), or "none"
slotrec_od() {
	local best='' bg=0 i f g
	for i in 0 1; do
		f=($(od -v -An -tu1 -j $((i * 4096)) -N 40 "$1"))
		[ "$(printf '%02x' "${f[@]:0:8}")" = 4f564c534c4f5453 ] || continue
		g=$((f[16] + f[17] * 256))
		[ "$g" -gt "$bg" ] || continue
		bg=$g best="$g ${f[24]} ${f[25]} ${f[26]} 0 0"
		[ "${f[8]}" != 2 ] || best="$g ${f[24]} ${f[25]} ${f[26]} ${f[27]} $((f[28] + f[29] * 256 + f[30] * 65536))"
	done
	echo "${best:-none}"
}
