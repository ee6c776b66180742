#!/usr/bin/env bash
# bench/gentree.sh [-l LINKS] [-m MODE] DIR SMALL [LARGE_MB [LARGE_FILES]]: fills the empty or new
# directory DIR with SMALL small files and LARGE_MB megabytes of large ones.
# -m base (the default): small files of 200-4000 bytes of base64 text (100 a directory, in 2 levels)
#   and LARGE_MB spread over LARGE_FILES large files (base64 of random bytes: gzip gains about 25 %).
#   -l LINKS: LINKS of the small files, spread evenly, get a second name (a hardlink pair),
#   hLINK.txt in a directory half the tree away, so pairs cross directories.
# -m live: what a Debian live session leaves in its upper: a quarter of the small files are
#   configuration (etc/, ~/.config: short text, a few symlinks), three fifths a browser profile's
#   cache (one flat directory of entries of 0.5-40 KB, half of them incompressible), the rest
#   dpkg lists and desktop state; the large data is a third apt lists (text), a quarter browser
#   databases (4 KiB pages, text and zeros) and the rest incompressible (.deb files, a photo).
set -euo pipefail
links=0 mode=base
usage() { echo "usage: bench/gentree.sh [-l LINKS] [-m base|live] DIR SMALL [LARGE_MB [LARGE_FILES]]" >&2; exit 100; }
while getopts l:m: opt; do
	case $opt in
	l) links=$OPTARG ;;
	m) mode=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
dir=$1 small=$2 mb=${3:-0} nlarge=${4:-4}
[ "$links" -le "$small" ] || { echo "gentree: unable to make $links hardlinks: only $small small files" >&2; exit 100; }
mkdir -p "$dir"
case $mode in
base) ;;
live) exec perl "$(dirname "$0")/gentree-live.pl" "$dir" "$small" "$mb" ;;
*) echo "gentree: unable to use mode $mode: it is base or live" >&2; exit 100 ;;
esac
head -c 786432 /dev/urandom | base64 -w 0 > "$dir/.pool"
perl -e '
	my ($dir, $n, $links) = @ARGV;
	open(my $p, "<", "$dir/.pool") or die "pool: $!";
	local $/; my $pool = <$p>; close $p;
	my $plen = length $pool;
	my $sub = sub { sprintf "%s/d%03d/s%03d", $dir, int($_[0] / 10000), int($_[0] / 100) % 100 };
	srand(7);
	for my $i (0 .. $n - 1) {
		my $d = $sub->($i);
		if ($i % 100 == 0) { mkdir sprintf("%s/d%03d", $dir, int($i / 10000)); mkdir $d; }
		my $size = 200 + int(rand(3800));
		open(my $f, ">", "$d/f$i.txt") or die "$d/f$i.txt: $!";
		print $f substr($pool, int(rand($plen - $size)), $size);
		close $f or die "$d/f$i.txt: $!";
	}
	for my $k (0 .. $links - 1) {
		my $i = int($k * $n / $links);
		my $to = $sub->(($i + int($n / 2)) % $n) . "/h$i.txt";
		link($sub->($i) . "/f$i.txt", $to) or die "$to: $!";
	}' "$dir" "$small" "$links"
rm -f "$dir/.pool"
set +o pipefail   # head ends base64 early on purpose
if [ "$mb" -gt 0 ]; then
	mkdir -p "$dir/big"
	per=$(( mb * 1048576 / nlarge ))
	for i in $(seq 1 "$nlarge"); do
		head -c $(( per * 3 / 4 )) /dev/urandom | base64 -w 76 | head -c "$per" > "$dir/big/blob$i.dat"
	done
fi
