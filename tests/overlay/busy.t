#!/bin/bash
# busy.t: a file rewritten in place (all A, then all B, in 64 KiB writes) while persist saves it:
# every save either stores one whole version or fails clearly; restore never shows a torn mix.
# Disk layout: a temporary directory holding the upper, the save file and the restore targets.
. "$(dirname "$0")/../lib/tap.sh"

P=$O/bin/persist
[ -x "$P" ] || skip_all "no $P: run make first"
command -v perl >/dev/null || skip_all "no perl for the writer"
W=$(mktemp -d /tmp/overlive-busy.XXXXXX)
WRITER=
trap '[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; rm -rf "$W"' EXIT
mkdir "$W/up"
head -c 1048576 /dev/zero | tr '\0' A >"$W/up/f"
"$P" init --file "$W/s.dat" --size 64M --quiet
perl -e '
	open(my $f, "+<", $ARGV[0]) or die;
	my ($a, $b) = ("A" x 65536, "B" x 65536);
	for (my $i = 0; ; $i++) {
		my $c = $i % 2 ? $b : $a;
		for (my $o = 0; $o < 1048576; $o += 65536) { sysseek($f, $o, 0); syswrite($f, $c); }
		select(undef, undef, undef, 0.02 + 0.01 * ($i % 7));
	}' "$W/up/f" &
WRITER=$!
saved=0 refused=0 torn=0 other=0
for i in $(seq 1 30); do
	echo "$i" >"$W/up/n"
	"$P" save --upper "$W/up" --file "$W/s.dat" --quiet 2>"$W/err"
	rc=$?
	if [ $rc = 0 ]; then
		saved=$((saved + 1))
		rm -rf "$W/r" && mkdir "$W/r"
		"$P" restore --file "$W/s.dat" --into "$W/r" --quiet || other=$((other + 1))
		a=$(tr -d A <"$W/r/f" | wc -c) b=$(tr -d B <"$W/r/f" | wc -c)
		[ "$a" = 0 ] || [ "$b" = 0 ] || torn=$((torn + 1))
	elif [ $rc = 100 ] && grep -q "kept changing" "$W/err"; then
		refused=$((refused + 1))
	else
		other=$((other + 1))
		sed 's/^/# /' "$W/err"
	fi
done
kill "$WRITER"
WRITER=
diag "30 saves under a busy writer: $saved stored a whole version, $refused refused"
is "$torn" 0 "no restored file is a mix of two versions"
is "$other" 0 "no other failure"
ok $((saved > 0 ? 0 : 1)) "some saves succeeded"
"$P" save --upper "$W/up" --file "$W/s.dat" --quiet
ok $? "a save after the writer stopped succeeds"
done_testing
