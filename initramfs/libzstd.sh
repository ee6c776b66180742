#!/usr/bin/env bash
# initramfs/libzstd.sh SRC BUILD: builds persist's libzstd from the libzstd source tree SRC (Debian's,
# unpacked) in the directory BUILD: musl-gcc, -Os, the compressor and decompressor only (no legacy
# formats, dictionary builder, deprecated API, multithreading or assembly), the small variants zstd's
# lib/README.md describes (ZSTD_LIB_MINIFY's: one Huffman and one sequence decoder, no inlining, no
# error strings), and initramfs/libzstd/fast-only.c in place of the compressors persist's level never
# uses (all but zstd_fast.c's). Prints BUILD on stdout: BUILD/libzstd.a and BUILD/include/zstd.h.
# BUILD is kept between runs: a re-run rebuilds only when the source or this configuration changed.
# Exit status: 0 built; 100 bad usage; 111 a build failure (its log is BUILD/build.log).
set -euo pipefail
die() { echo "libzstd.sh: $1" >&2; exit "${2:-111}"; }
[ $# -eq 2 ] || die "usage: libzstd.sh SRC BUILD" 100
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$1" && pwd)/lib build=$2
[ -f "$src/zstd.h" ] && [ -f "$src/compress/zstd_compress.c" ] || die "unable to use $1: not a zstd source tree" 100
mkdir -p "$build"
build=$(cd "$build" && pwd)
log=$build/build.log
CFLAGS="-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -DNDEBUG
	-DZSTD_LEGACY_SUPPORT=0 -DZSTD_DISABLE_ASM -DDYNAMIC_BMI2=0 -DZSTD_TRACE=0
	-DHUF_FORCE_DECOMPRESS_X1 -DZSTD_FORCE_DECOMPRESS_SEQUENCES_SHORT -DZSTD_NO_INLINE -DZSTD_STRIP_ERROR_STRINGS"
files=(common/entropy_common.c common/error_private.c common/fse_decompress.c common/xxhash.c
	common/zstd_common.c compress/fse_compress.c compress/hist.c compress/huf_compress.c
	compress/zstd_compress.c compress/zstd_compress_literals.c compress/zstd_compress_sequences.c
	compress/zstd_fast.c
	decompress/huf_decompress.c decompress/zstd_ddict.c decompress/zstd_decompress.c
	decompress/zstd_decompress_block.c)
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
	# shellcheck disable=SC2086 # CFLAGS is a list of flags
	musl-gcc $CFLAGS -I"$src" -I"$src/common" -c "$s" -o "$build/obj/$(basename "$f" .c).o" >> "$log" 2>&1 ||
		die "unable to compile $f: see $log"
done
rm -f "$build/libzstd.a.new"
ar rcs "$build/libzstd.a.new" "$build"/obj/*.o >> "$log" 2>&1 || die "unable to make libzstd.a: see $log"
mv -f "$build/libzstd.a.new" "$build/libzstd.a"
cp "$src/zstd.h" "$src/zstd_errors.h" "$build/include/"
echo "$stamp" > "$build/.stamp"
echo "$build"
