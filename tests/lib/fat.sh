# tests/lib/fat.sh: small writes into a FAT12/16/32 image file at its BPB's offsets, to make the
# damage a power cut leaves (a chain that runs into a free cluster, lost clusters, FAT copies
# that differ, a stale FSINFO free count, the dirty bit) without mounting it. Sourced by tests.
# Every function takes the image first; fat_geom must have been called on it.

# fat_u IMG OFFSET LEN: the little-endian unsigned number of LEN bytes at OFFSET
fat_u() { od -An -tu"$3" -j"$2" -N"$3" "$1" | tr -d ' '; }

# fat_put IMG OFFSET LEN VALUE: writes VALUE little-endian in LEN bytes at OFFSET
fat_put() {
	local i v=$4 bytes=''
	for ((i = 0; i < $3; i++)); do bytes+=$(printf '\\%03o' $((v & 255))); v=$((v >> 8)); done
	printf "$bytes" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# fat_geom IMG: FAT_BPS (bytes per sector), FAT_RES (reserved sectors), FAT_N (FATs), FAT_SZ
# (sectors per FAT), FAT_BITS (16 or 32; FAT12 is not handled), FAT_INFO (FSINFO sector or 0)
fat_geom() {
	FAT_BPS=$(fat_u "$1" 11 2) FAT_RES=$(fat_u "$1" 14 2) FAT_N=$(fat_u "$1" 16 1)
	FAT_SZ=$(fat_u "$1" 22 2) FAT_BITS=16 FAT_INFO=0
	if [ "$FAT_SZ" = 0 ]; then
		FAT_SZ=$(fat_u "$1" 36 4) FAT_BITS=32 FAT_INFO=$(fat_u "$1" 48 2)
	fi
}

# fat_set IMG CLUSTER VALUE [COPY]: the FAT entry of CLUSTER in copy COPY (0, 1, ...; default all)
fat_set() {
	local copy w=$((FAT_BITS / 8)) from=0 to=$((FAT_N - 1))
	[ -z "${4:-}" ] || from=$4 to=$4
	for ((copy = from; copy <= to; copy++)); do
		fat_put "$1" $(((FAT_RES + copy * FAT_SZ) * FAT_BPS + $2 * w)) "$w" "$3"
	done
}

# fat_get IMG CLUSTER [COPY]: the FAT entry of CLUSTER (copy 0 unless told)
fat_get() { fat_u "$1" $(((FAT_RES + ${3:-0} * FAT_SZ) * FAT_BPS + $2 * FAT_BITS / 8)) $((FAT_BITS / 8)); }

# fat_eoc: the end-of-chain value of this FAT
fat_eoc() { [ "$FAT_BITS" = 32 ] && echo $((0x0FFFFFFF)) || echo $((0xFFFF)); }

# fat_dirty IMG: sets the dirty bit the kernel sets at a read-write mount (the BPB's state byte)
fat_dirty() {
	local off=$([ "$FAT_BITS" = 32 ] && echo 65 || echo 37)
	fat_put "$1" "$off" 1 $(($(fat_u "$1" "$off" 1) | 1))
}
# fat_is_dirty IMG: true when the dirty bit is set
fat_is_dirty() { [ $(($(fat_u "$1" $([ "$FAT_BITS" = 32 ] && echo 65 || echo 37) 1) & 1)) = 1 ]; }

# fat_fsinfo_free IMG N: the FSINFO free-cluster count (FAT32)
fat_fsinfo_free() { [ "$FAT_INFO" != 0 ] && fat_put "$1" $((FAT_INFO * FAT_BPS + 488)) 4 "$2"; }

# fat_first_cluster IMG ::PATH: the first cluster of a file, as mshowfat prints it
fat_first_cluster() { MTOOLS_SKIP_CHECK=1 mshowfat -i "$1" "$2" | sed -n 's/.*<\([0-9]*\)[->].*/\1/p' | head -n 1; }
