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
HOT=
trap '[ -n "$WRITER" ] && kill "$WRITER" 2>/dev/null; [ -n "$HOT" ] && kill "$HOT" 2>/dev/null; rm -rf "$W"' EXIT
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
# --skip-busy (the live system's timer): the save succeeds, names what it left, keeps the rest.
# A second writer changes g's size with no pause (8 MiB, then 8 MiB + 4 KiB, and again), so that
# a read of g keeps seeing it change (its content is whatever the writer left: not checked).
head -c 8388608 /dev/zero >"$W/up/g"
"$P" grow --file "$W/s.dat" --size 512M --quiet	# room for every save: no full save (it cannot keep g's last version)
"$P" save --upper "$W/up" --file "$W/s.dat" --quiet
perl -e 'for (my $i = 0; ; $i++) { truncate($ARGV[0], 8388608 + ($i % 2) * 4096) or die }' "$W/up/g" &
HOT=$!
skipped=0 kept=0 bad=0
for i in $(seq 1 15); do
	echo "n$i" >"$W/up/n"
	"$P" save --upper "$W/up" --file "$W/s.dat" --skip-busy --quiet 2>"$W/err" || { bad=$((bad + 1)); sed 's/^/# /' "$W/err"; continue; }
	grep -q "kept changing while it was read.* g" "$W/err" && skipped=$((skipped + 1))
	rm -rf "$W/r" && mkdir "$W/r"
	"$P" restore --file "$W/s.dat" --into "$W/r" --quiet && [ "$(cat "$W/r/n")" = "n$i" ] || bad=$((bad + 1))
	"$P" verify --file "$W/s.dat" >/dev/null || bad=$((bad + 1))
	kept=$((kept + 1))
done
kill "$HOT"
# A file whose size changes now and then: a save that reads it again after the scan records the
# size it read (the state's data bytes in its COMMIT agree), never a damaged generation.
perl -e 'for (my $i = 0; ; $i++) { truncate($ARGV[0], 8388608 + ($i % 3) * 4096) or die; select(undef, undef, undef, 0.03) }' "$W/up/g" &
HOT=$!
damaged=0
for i in $(seq 1 20); do
	echo "m$i" >"$W/up/n"
	"$P" save --upper "$W/up" --file "$W/s.dat" --skip-busy --quiet 2>"$W/err"
	"$P" verify --file "$W/s.dat" >"$W/verify" 2>&1 && ! grep -q "damaged" "$W/err" "$W/verify" || { damaged=$((damaged + 1)); sed 's/^/# /' "$W/err" "$W/verify" | head -3; }
done
kill "$HOT"
is "$damaged" 0 "a file that changes size between the scan and its read never leaves a damaged generation"
diag "15 saves with --skip-busy: $kept saved, $skipped left the busy file at its last saved version"
is "$bad" 0 "--skip-busy: every save succeeds, saves the other change, verifies"
ok $((skipped > 0 ? 0 : 1)) "--skip-busy named the file that kept changing and kept its last saved version"
"$P" save --upper "$W/up" --file "$W/s.dat" --quiet 2>"$W/err"
ok $? "without --skip-busy, once its writer stopped, the file is saved"
kill "$WRITER"
WRITER=
diag "30 saves under a busy writer: $saved stored a whole version, $refused refused"
is "$torn" 0 "no restored file is a mix of two versions"
is "$other" 0 "no other failure"
ok $((saved > 0 ? 0 : 1)) "some saves succeeded"
"$P" save --upper "$W/up" --file "$W/s.dat" --quiet
ok $? "a save after the writer stopped succeeds"
done_testing
