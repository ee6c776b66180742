#!/usr/bin/env bash
# initramfs/libzstd.sh SRC BUILD [small|fast]: builds persist's libzstd from the libzstd source tree
# SRC (Debian's, unpacked) in the directory BUILD with musl-gcc: the compressor and decompressor only
# (no legacy formats, dictionary builder, deprecated API or multithreading), and
# initramfs/libzstd/fast-only.c in place of the compressors persist's level never uses (all but
# zstd_fast.c's).
#   small (the default; the initramfs's persist, whose size is bounded): -Os, no assembly, the small
#     variants zstd's lib/README.md describes (ZSTD_LIB_MINIFY's: one Huffman and one sequence
#     decoder, no inlining, no error strings).
#   fast (out/bin/persist, the root image's and a host's: no size bound): -O2, zstd's own inlining,
#     both decoders with the BMI2 dispatch and the x86-64 assembly Huffman decoder. It expands the
#     catalogue's PACKs in half the instructions of the small one (docs/bench.md).
# Prints BUILD on stdout: BUILD/libzstd.a and BUILD/include/zstd.h.
# BUILD is kept between runs: a re-run rebuilds only when the source or this configuration changed.
# Exit status: 0 built; 100 bad usage; 111 a build failure (its log is BUILD/build.log).
set -euo pipefail
die() { echo "libzstd.sh: $1" >&2; exit "${2:-111}"; }
[ $# -eq 2 ] || [ $# -eq 3 ] || die "usage: libzstd.sh SRC BUILD [small|fast]" 100
profile=${3:-small}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$1" && pwd)/lib build=$2
[ -f "$src/zstd.h" ] && [ -f "$src/compress/zstd_compress.c" ] || die "unable to use $1: not a zstd source tree" 100
mkdir -p "$build"
build=$(cd "$build" && pwd)
log=$build/build.log
common="-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -DNDEBUG -DZSTD_LEGACY_SUPPORT=0 -DZSTD_TRACE=0"
files=(common/entropy_common.c common/error_private.c common/fse_decompress.c common/xxhash.c
	common/zstd_common.c compress/fse_compress.c compress/hist.c compress/huf_compress.c
	compress/zstd_compress.c compress/zstd_compress_literals.c compress/zstd_compress_sequences.c
	compress/zstd_fast.c
	decompress/huf_decompress.c decompress/zstd_ddict.c decompress/zstd_decompress.c
	decompress/zstd_decompress_block.c)
case $profile in
small)	CFLAGS="-Os $common -DZSTD_DISABLE_ASM -DDYNAMIC_BMI2=0
	-DHUF_FORCE_DECOMPRESS_X1 -DZSTD_FORCE_DECOMPRESS_SEQUENCES_SHORT -DZSTD_NO_INLINE -DZSTD_STRIP_ERROR_STRINGS" ;;
fast)	CFLAGS="-O2 $common"
	files+=(decompress/huf_decompress_amd64.S) ;;
*)	die "unknown profile '$profile': small or fast" 100 ;;
esac
stamp="$(cat "$1/.unpacked" 2>/dev/null || echo unknown) $(echo "$CFLAGS ${files[*]}" | md5sum | cut -c1-12) $(md5sum < "$here/libzstd/fast-only.c" | cut -c1-12)"
if [ -f "$build/libzstd.a" ] && [ "$(cat "$build/.stamp" 2>/dev/null)" = "$stamp" ]; then
	echo "$build"
	exit 0
fi
: > "$log"
rm -rf "$build/obj" "$build/include" && mkdir -p "$build/obj" "$build/include"
for f in "${files[@]}" fast-only.c; do
	s=$src/$f
	[ "$f" != fast-only.c ] || s=$here/libzstd/fast-only.c
	echo "musl-gcc $f" >> "$log"
	o=$(basename "$f"); o=${o%.*}.o
	# shellcheck disable=SC2086 # CFLAGS is a list of flags
	musl-gcc $CFLAGS -I"$src" -I"$src/common" -c "$s" -o "$build/obj/$o" >> "$log" 2>&1 ||
		die "unable to compile $f: see $log"
done
rm -f "$build/libzstd.a.new"
ar rcs "$build/libzstd.a.new" "$build"/obj/*.o >> "$log" 2>&1 || die "unable to make libzstd.a: see $log"
mv -f "$build/libzstd.a.new" "$build/libzstd.a"
cp "$src/zstd.h" "$src/zstd_errors.h" "$build/include/"
echo "$stamp" > "$build/.stamp"
echo "$build"
