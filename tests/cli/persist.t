#!/usr/bin/env bash
# tests/cli/persist.t: persist's command line as a user meets it: each command takes only its own
# options and arguments (exit 100, the usage line, the word and the command named), --help for
# every command, sizes in the one language, a persist.env line read whole; and every persist
# command line in the repository's scripts uses only options its command takes.
# Disk layout: a temporary directory holding persist.env files and a small save file.
. "$(dirname "$0")/../lib/tap.sh"

P=$O/bin/persist
[ -x "$P" ] || skip_all "no $P: run make first"
W=$(mktemp -d /tmp/overlive-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PERSIST_ENV=$W/none.env
COMMANDS="init save restore status diff log rollback verify grow export compact"

"$P" --help > "$W/out" 2>&1
ok $? "persist --help exits 0"
for c in $COMMANDS; do
	"$P" "$c" --help > "$W/out" 2>&1
	ok $? "persist $c --help exits 0"
	grep -q "^usage: persist $c" "$W/out"
	ok $? "  and starts with its usage line"
done

# refused: ARGS... | the words the message must hold
refused() {
	local want=$1
	shift
	"$P" "$@" > "$W/out" 2> "$W/err"
	is $? 100 "persist $* is a usage error"
	grep -q "^usage: persist $1 " "$W/err" && grep -qF -- "$want" "$W/err"
	ok $? "  with its usage line and '$want': $(tail -n 1 "$W/err")"
}
refused "unable to use --into: persist log takes no such option" log --into /etc
refused "unable to use --json: persist verify takes no such option" verify --json
refused "unable to use --size: persist save takes no such option" save --size 1M
refused "persist restore takes no such option" restore --into "$W" --upper "$W"
refused "unable to use 'extra': persist log takes no arguments" log extra
refused "GEN is needed" rollback
refused "persist rollback takes one argument, GEN" rollback 1 2
refused "unable to use GEN x1" rollback x1
refused "--json takes no value" status --json=1
refused "it needs a value" restore --into
refused "K M G T P" init --file "$W/s.dat" --size 1x
refused "K M G T P" init --file "$W/s.dat" --size 12MB
refused "too large" grow --file "$W/s.dat" --size 16384P
refused "unable to use --at -1" restore --into "$W" --at -1

# --compress: init's alone; every other command says why it does not take it
refused "unable to use --compress with persist save: a save file's compression is chosen once, by persist init" \
	save --compress none
refused "chosen once, by persist init" grow --file "$W/s.dat" --size 1M --compress zstd
refused "unable to use --compress gzip: must be zstd or none" init --file "$W/c.dat" --size 1M --compress gzip
[ ! -e "$W/c.dat" ]
ok $? "  and no file is made"
for m in zstd none; do
	mkdir -p "$W/up-$m"
	seq 1 20000 > "$W/up-$m/text"
	"$P" init --file "$W/$m.dat" --size 1M --compress "$m" --quiet &&
		"$P" save --file "$W/$m.dat" --upper "$W/up-$m" --quiet &&
		"$P" verify --file "$W/$m.dat" > "$W/out"
	ok $? "init --compress $m, save, verify"
	grep -q "compression $m ($([ $m = zstd ] && echo 1 || echo 0) of 1 data records compressed)" "$W/out"
	ok $? "  verify says so: $(sed 's/.*journal bytes used, //' "$W/out")"
done
"$P" init --file "$W/d.dat" --size 1M > "$W/out"
grep -q "compression zstd$" "$W/out"
ok $? "init's default is zstd: $(cat "$W/out")"

# 1t is a size now (persist once refused it): grow gets as far as opening the file
"$P" grow --file "$W/missing.dat" --size 1t > "$W/out" 2> "$W/err"
r=$?
is "$r" 111 "grow --size 1t parses; the missing file is the failure"
grep -q "unable to open" "$W/err"
ok $? "  $(cat "$W/err")"
"$P" init --file "$W/s.dat" --size 200KiB --quiet
ok $? "init --size 200KiB"
is "$(stat -c %s "$W/s.dat")" 204800 "  makes 200 KiB"

# A size the file system has no room for (live.persist.size=1t at a shutdown) is refused before a
# byte is written: never a file system filled with zeros. A 4 MiB tmpfs stands for a small medium.
if [ "$(id -u)" = 0 ] && mkdir "$W/small" && mount -t tmpfs -o size=4m tmpfs "$W/small"; then
	"$P" init --file "$W/small/s.dat" --size 1t > "$W/out" 2> "$W/err"
	is $? 111 "init --size 1t on a 4 MiB file system fails"
	grep -q "less than the 1099511627776 bytes asked free" "$W/err"
	ok $? "  naming the size asked: $(cat "$W/err")"
	is "$(ls -A "$W/small")" "" "  and leaves nothing behind (no file, no temporary)"
	is "$(df --output=used -B1 "$W/small" | tail -1 | tr -d ' ')" 0 "  the file system is as empty as before"
	"$P" init --file "$W/small/s.dat" --size 1M --quiet
	ok $? "  a size that fits is still made there"
	cp "$W/small/s.dat" "$W/before.dat"
	"$P" grow --file "$W/small/s.dat" --size 1t > "$W/out" 2> "$W/err"
	is $? 111 "grow --size 1t on that file system fails"
	grep -q "less than the .* more bytes asked free" "$W/err"
	ok $? "  naming what it asked: $(cat "$W/err")"
	cmp -s "$W/small/s.dat" "$W/before.dat"
	ok $? "  and the save file is byte for byte as it was"
	umount "$W/small"
else
	skip 8 "a tmpfs to fill needs root"
fi

# persist.env: a line that does not fit is an error, never two lines
{
	echo "PERSIST_FILE=$W/s.dat"
	printf 'PERSIST_UPPER=/%4184s' '' | tr ' ' a
	printf 'PERSIST_FILE=/evil%783s\n' '' | tr ' ' /
} > "$W/long.env"
PERSIST_ENV=$W/long.env "$P" log > "$W/out" 2> "$W/err"
is $? 100 "a 5000-byte persist.env line is an error (exit 100)"
grep -qF "$W/long.env:2: the line is longer than" "$W/err"
ok $? "  naming the file and line: $(cat "$W/err")"
echo "PERSIST_FILE=$W/s.dat" > "$W/good.env"
PERSIST_ENV=$W/good.env "$P" log > "$W/out" 2> "$W/err"
ok $? "a good persist.env gives the save file"

# every persist command line in the scripts, against its command's usage line
scanned=0
bad=0
while IFS=: read -r file line text; do
	[ "$file" = "$TOP/tests/cli/persist.t" ] && continue
	text=${text//--persist save/}	# build.sh image's --persist save is not a persist command
	cmd=$(grep -oE '(persist|"\$P"|"\$PERSIST"|/bin/persist")[[:space:]]+[a-z]+' <<< "$text" | head -n 1 |
	      awk '{ print $NF }')
	case " $COMMANDS " in *" $cmd "*) ;; *) continue ;; esac
	usage=$("$P" "$cmd" --help | head -n 1)
	rest=${text#*[[:space:]]"$cmd"}
	rest=${rest%%[|;&>\`]*}
	for opt in $(grep -oE '(^|[[:space:]])--[a-z][a-z-]*' <<< "$rest"); do
		case "$usage " in
		*"[$opt "* | *"[$opt]"* | *" $opt "*) ;;
		*) echo "# $file:$line: persist $cmd $opt: not in '$usage'"; bad=$((bad + 1)) ;;
		esac
	done
	scanned=$((scanned + 1))
done < <(grep -rnE '(persist|"\$P"|"\$PERSIST"|/bin/persist")[[:space:]]+('"${COMMANDS// /|}"')([[:space:]]|$)' \
		"$TOP/images" "$TOP/tests" "$TOP/bench" "$TOP/build.sh" 2>/dev/null)
diag "$scanned persist command lines in the scripts"
ok $((scanned < 20 || bad)) "every one uses only options its command takes ($bad do not)"

done_testing
