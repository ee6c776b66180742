#!/bin/bash
# nbd-client.t: powercut against real NBD clients: qemu-io (qemu-utils), and qemu-system-x86_64
# through the -blockdev line of docs/powercut.md when it is installed.
# Layout: one 1 MiB raw image in a temporary directory, served on a unix socket there; the
# client writes patterns in 64 KiB blocks (block N at N*64k), flushes, writes more; then
# the server is cut and the image checked on the host.
. "$(dirname "$0")/../lib/tap.sh"

PC=$O/bin/powercut
command -v qemu-io >/dev/null || skip_all "qemu-io is missing (apt-get install qemu-utils)"
[ -x "$PC" ] || skip_all "$PC is not built (make)"

T=$(mktemp -d)
SERVER=
CLIENT=
QEMU=
cleanup() {
	[ -n "$QEMU" ] && kill -9 "$QEMU" 2>/dev/null
	[ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null
	[ -n "$SERVER" ] && kill -9 "$SERVER" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
K=65536

# start ARGS...: serves $T/img on $T/sock; waits until the socket is there (it means ready)
start() {
	"$PC" --socket "$T/sock" "$@" "$T/img" >"$T/line" 2>"$T/err" &
	SERVER=$!
	for _ in $(seq 100); do
		[ -S "$T/sock" ] && return 0
		sleep 0.05
	done
	diag "server did not start: $(cat "$T/err")"
	return 1
}

# client QEMU-IO-ARGS...: qemu-io in the background, writeback cache (no FUA on each write),
# line-buffered so that until_output sees its progress
client() {
	timeout 60 stdbuf -oL qemu-io -t writeback -d unmap -f raw "nbd+unix:///disk?socket=$T/sock" \
		"$@" >"$T/client" 2>&1 &
	CLIENT=$!
}

# until_output N: waits until the client printed N result lines (its commands ran)
until_output() {
	local n
	for _ in $(seq 200); do
		n=$(grep -s -c -E '^(wrote|read|discard)' "$T/client")   # the file appears with the client
		[ "${n:-0}" -ge "$1" ] && return 0
		sleep 0.05
	done
	diag "client output: $(cat "$T/client")"
	return 1
}

# finish: waits for the server and returns its exit status; stops the client
finish() {
	local st
	wait "$SERVER"
	st=$?
	SERVER=
	kill "$CLIENT" 2>/dev/null
	wait "$CLIENT" 2>/dev/null
	CLIENT=
	return $st
}

# block_is FILE N BYTE: 64 KiB block N of FILE is all BYTE (octal escape for printf)
block_is() {
	cmp -s <(dd if="$1" bs=$K skip="$2" count=1 status=none) \
		<(head -c $K /dev/zero | tr '\0' "$3")
}
line_has() { grep -q -E "$1" "$T/line" || { diag "line: $(cat "$T/line")"; return 1; }; }

fresh() { rm -f "$T/img"; truncate -s 1M "$T/img"; }

# 1: policy none, cut by SIGUSR1 while the client waits
fresh
start
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" \
	-c "write -z 0 4k" -c "discard 128k 64k" -c "read -P 0xbb 64k 64k" -c "sleep 5000"
until_output 5
kill -USR1 "$SERVER"
finish
is $? 0 "SIGUSR1: the server cuts and exits 0"
is "$(wc -l <"$T/line")" 1 "it prints one line"
line_has '^cut trigger=sigusr1 policy=none seed=0 keep=- torn=0 tear_unit=512 epoch=1 writes=4 unflushed=3 kept=0 torn_writes=0 dropped=3$'
ok $? "the line: trigger, policy, seed, epoch 1, 4 writes, 3 dropped"
block_is "$T/img" 0 '\252'
ok $? "the flushed block survives (the unflushed write-zeroes over it does not)"
block_is "$T/img" 1 '\0'
ok $? "the unflushed block is absent"
grep -q 'read 65536/65536 bytes at offset 65536' "$T/client" &&
	! grep -q 'Pattern verification failed' "$T/client"
ok $? "the client read its unflushed write back through the cache"

# 2: a prefix covering all, cut after write 3 (unanswered)
fresh
start --policy prefix --keep 100 --cut-after-write 3
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c "write -P 0xcc 128k 64k"
finish
is $? 0 "--cut-after-write 3: exits 0"
line_has '^cut trigger=write policy=prefix seed=[0-9]+ keep=2 torn=0 tear_unit=512 epoch=1 writes=3 unflushed=2 kept=2 torn_writes=0 dropped=0$'
ok $? "the line: write 3, both unflushed writes kept"
block_is "$T/img" 0 '\252' && block_is "$T/img" 1 '\273' && block_is "$T/img" 2 '\314'
ok $? "flushed and unflushed blocks are all present"

# 3: cut at flush 2, before it is done
fresh
start --cut-at-flush 2
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c flush
finish
is $? 0 "--cut-at-flush 2: exits 0"
line_has '^cut trigger=flush policy=none .* epoch=1 writes=2 unflushed=1 .* dropped=1$'
ok $? "the line: at flush 2, epoch 1"
block_is "$T/img" 0 '\252' && block_is "$T/img" 1 '\0'
ok $? "flush 1 held, the write before flush 2 is lost"

# 4: a timer
fresh
start --cut-after-ms 700
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c "sleep 5000"
finish
is $? 0 "--cut-after-ms 700: exits 0"
line_has '^cut trigger=time policy=none .* epoch=1 writes=2 .* dropped=1$'
ok $? "the line: trigger=time"
block_is "$T/img" 0 '\252' && block_is "$T/img" 1 '\0'
ok $? "the flushed block present, the unflushed one absent"

# 5: torn: the write after an empty prefix keeps some of its sectors
fresh
start --policy prefix --keep 0 --torn --seed 12
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c "sleep 5000"
until_output 2
kill -TERM "$SERVER"
finish
is $? 0 "SIGTERM: cuts and exits 0"
line_has '^cut trigger=sigterm policy=prefix seed=12 keep=0 torn=1 tear_unit=512 epoch=1 writes=2 unflushed=1 kept=0 torn_writes=1 dropped=0$'
ok $? "the line: one torn write"
# torn_at UNIT: block 1 of the image is 0xbb for some multiple of UNIT bytes, zero after
torn_at() {
	dd if="$T/img" bs=$K skip=1 count=1 status=none >"$T/blk"
	n=$(cmp "$T/blk" <(head -c $K /dev/zero | tr '\0' '\273') 2>/dev/null | sed -n 's/.*byte \([0-9]*\).*/\1/p')
	kept=$(( ${n:-1} - 1 ))
	[ $kept -gt 0 ] && [ $kept -lt $K ] && [ $((kept % $1)) -eq 0 ] &&
		cmp -s <(tail -c +$((kept + 1)) "$T/blk") <(head -c $((K - kept)) /dev/zero)
}
torn_at 512
ok $? "the torn block is new for $kept bytes (whole sectors), old after"

# 5b: a 4 KiB tear unit, live and replayed
fresh
cp "$T/img" "$T/base"
start --policy prefix --keep 0 --torn --tear-unit 4096 --seed 12 --record "$T/log"
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c "sleep 5000"
until_output 2
kill -TERM "$SERVER"
finish
line_has '^cut trigger=sigterm policy=prefix seed=12 keep=0 torn=1 tear_unit=4096 epoch=1 writes=2 unflushed=1 kept=0 torn_writes=1 dropped=0$'
ok $? "--tear-unit 4096: the line names the unit"
torn_at 4096
ok $? "--tear-unit 4096: the torn block is new for $kept bytes (whole 4 KiB units), old after"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r0" --epoch 1 --policy prefix --keep 0 \
	--torn --tear-unit 4096 --seed 12 | grep -q ' tear_unit=4096 .* torn_writes=1 ' &&
	cmp -s "$T/r0" "$T/img"
ok $? "--tear-unit 4096: the replay makes the same image"

# 6: record once, replay many
fresh
cp "$T/img" "$T/base"
start --record "$T/log"
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0xbb 64k 64k" -c "write -P 0xcc 128k 64k" \
	-c flush -c "write -P 0xdd 192k 64k"
finish
is $? 0 "a recorded run ends with the client"
line_has '^cut trigger=disconnect policy=none .* epoch=3 writes=4 unflushed=0'
ok $? "the client flushed at close: nothing to drop"
"$PC" info --log "$T/log" >"$T/info"
is "$(tr '\n' ' ' <"$T/info")" "epochs=4 writes=4 epoch=0 writes=1 epoch=1 writes=2 epoch=2 writes=1 epoch=3 writes=0 " \
	"info: writes per epoch"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r1" --epoch 1 >"$T/rline"
ok $? "replay at epoch 1, policy none"
block_is "$T/r1" 0 '\252' && block_is "$T/r1" 1 '\0' && block_is "$T/r1" 2 '\0'
ok $? "epoch 0 present, epoch 1 absent"
grep -q '^cut trigger=replay policy=none .* epoch=1 writes=3 unflushed=2 .* dropped=2$' "$T/rline"
ok $? "replay prints the cut line"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r2" --epoch 1 --policy prefix --keep 1 >/dev/null &&
	block_is "$T/r2" 1 '\273' && block_is "$T/r2" 2 '\0'
ok $? "replay at epoch 1, prefix 1: the first unflushed write only"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r3" --epoch 3 >/dev/null &&
	cmp -s "$T/r3" "$T/img"
ok $? "replay at the end equals the live image"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r4" --epoch 1 --policy random --seed 5 >/dev/null &&
	"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r5" --epoch 1 --policy random --seed 5 >/dev/null &&
	cmp -s "$T/r4" "$T/r5"
ok $? "replay random, seed 5: the same image twice"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r6" --epoch 9 2>/dev/null
is $? 100 "replay at an epoch the log lacks: exit 100"

# 7: a live random cut equals its replay
fresh
cp "$T/img" "$T/base"
start --record "$T/log" --policy random --seed 77 --cut-at-flush 2
client -c "write -P 0xaa 0 64k" -c flush -c "write -P 0x11 64k 64k" -c "write -P 0x22 128k 64k" \
	-c "write -P 0x33 192k 64k" -c "write -P 0x44 256k 64k" -c flush
finish
args=$(sed -n 's/.*seed=\([0-9]*\) .* epoch=\([0-9]*\) writes=\([0-9]*\) .*/--seed \1 --epoch \2 --writes \3/p' "$T/line")
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r7" --policy random $args >/dev/null &&
	cmp -s "$T/r7" "$T/img"
ok $? "a live random cut replays to the same image ($args)"

# 8: errors
"$PC" --socket "$T/sock" "$T/nonexistent" 2>"$T/err"
is $? 100 "a missing image: exit 100"
grep -q 'unable to open image' "$T/err"
ok $? "and says so"
fresh
start
"$PC" --socket "$T/sock" "$T/img" 2>"$T/err2"
is $? 111 "a socket in use: exit 111"
grep -q 'socket in use' "$T/err2"
ok $? "and says so"
kill -TERM "$SERVER"
finish
touch "$T/plain"
"$PC" --socket "$T/plain" "$T/img" 2>/dev/null
is $? 100 "a socket path holding a plain file: exit 100"
[ -f "$T/plain" ]
ok $? "and the file is left alone"
start
kill -9 "$SERVER"
wait "$SERVER" 2>/dev/null
SERVER=
[ -S "$T/sock" ] && start
ok $? "a stale socket (its server killed) is replaced"
kill -TERM "$SERVER"
finish
"$PC" --socket "$T/sock" --policy most "$T/img" 2>/dev/null
is $? 100 "an unknown policy: exit 100"
"$PC" --socket "$T/sock" --torn --tear-unit 3000 "$T/img" 2>"$T/err"
is $? 100 "a tear unit that is not a power of two: exit 100"
grep -q "unable to use --tear-unit '3000': not a power of two from 512 to 1048576" "$T/err"
ok $? "and says what is allowed"
"$PC" replay --log "$T/log" --base "$T/base" --out "$T/r0" --epoch 1 --tear-unit 256 2>/dev/null
is $? 100 "replay: a tear unit under 512: exit 100"
fresh
start --cache-max 1
client -c "write -P 0xaa 0 512k" -c "write -P 0xbb 512k 512k" -c "write -P 0xcc 0 4k"
finish
is $? 111 "a write past --cache-max: exit 111"
grep -q 'the cache is full' "$T/err"
ok $? "and says so"
"$PC" --help | grep -q '^usage: powercut'
ok $? "--help prints the usage"

# 9: the QEMU -blockdev line of docs/powercut.md, driven through the monitor's qemu-io
if command -v qemu-system-x86_64 >/dev/null; then
	fresh
	start --cut-at-flush 2
	printf '%s\n' 'qemu-io d0 "write -P 0xaa 0 64k"' 'qemu-io d0 "flush"' \
		'qemu-io d0 "write -P 0xbb 64k 64k"' 'qemu-io d0 "read -P 0xbb 64k 64k"' \
		'qemu-io d0 "flush"' quit |
		timeout 60 qemu-system-x86_64 -S -nodefaults -display none -monitor stdio \
			-machine accel=tcg -blockdev driver=nbd,node-name=d0,server.type=unix,server.path="$T/sock",export=disk,discard=unmap \
			-device virtio-blk-pci,drive=d0,share-rw=on >"$T/qemu" 2>&1
	finish
	is $? 0 "QEMU: the server cuts at QEMU's second flush"
	line_has '^cut trigger=flush policy=none .* epoch=1 writes=2 unflushed=1 .* dropped=1$'
	ok $? "QEMU: the line"
	block_is "$T/img" 0 '\252' && block_is "$T/img" 1 '\0'
	ok $? "QEMU: the flushed write survives, the unflushed one does not"
	grep -aq 'read 65536/65536 bytes at offset 65536' "$T/qemu" &&
		! grep -aq 'Pattern verification failed' "$T/qemu"
	ok $? "QEMU: reads see the cached write"

	# SIGKILL of QEMU: the disconnect is the cut (QEMU had no chance to flush)
	fresh
	start
	printf '%s\n' 'qemu-io d0 "write -P 0xaa 0 64k"' 'qemu-io d0 "flush"' \
		'qemu-io d0 "write -P 0xbb 64k 64k"' >"$T/monitor"
	qemu-system-x86_64 -S -nodefaults -display none -monitor stdio -machine accel=tcg \
		-blockdev driver=nbd,node-name=d0,server.type=unix,server.path="$T/sock",export=disk \
		-device virtio-blk-pci,drive=d0,share-rw=on <"$T/monitor" >"$T/qemu" 2>&1 &
	QEMU=$!
	for _ in $(seq 200); do
		grep -aq 'wrote 65536/65536 bytes at offset 65536' "$T/qemu" && break
		sleep 0.05
	done
	kill -9 "$QEMU"
	wait "$QEMU" 2>/dev/null
	QEMU=
	finish
	is $? 0 "QEMU killed: the server cuts at the disconnect"
	line_has '^cut trigger=disconnect policy=none .* epoch=1 writes=2 unflushed=1 .* dropped=1$'
	ok $? "QEMU killed: the line"
	block_is "$T/img" 0 '\252' && block_is "$T/img" 1 '\0'
	ok $? "QEMU killed: the flushed write survives, the unflushed one does not"
else
	skip 7 "qemu-system-x86_64 is missing"
fi

done_testing
