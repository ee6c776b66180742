#!/usr/bin/env bash
# bench/gentree.sh DIR SMALL [LARGE_MB [LARGE_FILES]]: fills the empty or new directory DIR with
# SMALL small files (200-4000 bytes of base64 text, 100 a directory, in 2 levels) and LARGE_MB
# megabytes spread over LARGE_FILES large files (base64 of random bytes: gzip gains about 25 %).
set -euo pipefail
dir=$1 small=$2 mb=${3:-0} nlarge=${4:-4}
mkdir -p "$dir"
head -c 786432 /dev/urandom | base64 -w 0 > "$dir/.pool"
perl -e '
	my ($dir, $n) = @ARGV;
	open(my $p, "<", "$dir/.pool") or die "pool: $!";
	local $/; my $pool = <$p>; close $p;
	my $plen = length $pool;
	srand(7);
	for my $i (0 .. $n - 1) {
		my $d = sprintf "%s/d%03d/s%03d", $dir, int($i / 10000), int($i / 100) % 100;
		if ($i % 100 == 0) { mkdir sprintf("%s/d%03d", $dir, int($i / 10000)); mkdir $d; }
		my $size = 200 + int(rand(3800));
		open(my $f, ">", "$d/f$i.txt") or die "$d/f$i.txt: $!";
		print $f substr($pool, int(rand($plen - $size)), $size);
		close $f or die "$d/f$i.txt: $!";
	}' "$dir" "$small"
rm -f "$dir/.pool"
set +o pipefail   # head ends base64 early on purpose
if [ "$mb" -gt 0 ]; then
	mkdir -p "$dir/big"
	per=$(( mb * 1048576 / nlarge ))
	for i in $(seq 1 "$nlarge"); do
		head -c $(( per * 3 / 4 )) /dev/urandom | base64 -w 76 | head -c "$per" > "$dir/big/blob$i.dat"
	done
fi
