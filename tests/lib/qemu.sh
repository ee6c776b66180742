# qemu.sh: boots overlive in QEMU with a serial console the test reads and types into (sourced).
#   qemu_start APPEND [QEMU ARGS...]   start in the background; the console goes to $QLOG
#   qemu_expect REGEX [SECONDS]        wait until new console output matches (grep -E); 1 on timeout
#   qemu_send LINE                     type a line on the console
#   qemu_run CMD [SECONDS]             run CMD in the guest's shell; returns its exit status
#   qemu_stop                          power off (or kill) and wait
#   qemu_monitor CMD                   a QEMU monitor command (QEMU_MONITOR=1 before qemu_start)
# Needs $O (vmlinuz, initramfs.img) and optionally $ACCEL (kvm or tcg).
: "${ACCEL:=tcg}"
: "${QEMU_MEM:=768}"
QDIR=$(mktemp -d)
QLOG=$QDIR/console.log
QPOS=0
QPID=
trap 'qemu_stop >/dev/null 2>&1; rm -rf "$QDIR"' EXIT
trap '' PIPE    # typing into a QEMU that has gone is an error to report, not a reason to die

qemu_start() {
	local append=$1
	shift
	: > "$QLOG"
	QPOS=0
	rm -f "$QDIR/in" && mkfifo "$QDIR/in"
	local mon=none
	[ "${QEMU_MONITOR:-0}" = 1 ] && mon="unix:$QDIR/monitor,server=on,wait=off"
	qemu-system-x86_64 -accel "$ACCEL" -m "$QEMU_MEM" -display none -monitor "$mon" \
		-serial stdio -no-reboot -nodefaults -kernel "$O/vmlinuz" -initrd "$O/initramfs.img" \
		-append "console=ttyS0 panic=-1 $append" "$@" < "$QDIR/in" > "$QLOG" 2>&1 &
	QPID=$!
	exec {QIN}> "$QDIR/in"
}

# Looks for REGEX in the console output after the last match; moves past the matching line.
qemu_expect() {
	local re=$1 secs=${2:-60} end line alive
	end=$((SECONDS + secs))
	while :; do
		# Whether QEMU runs, asked before the log is read: a line printed just before it exits
		# (a guest that powers off at once) is then still found in the log it left.
		alive=1
		kill -0 "$QPID" 2>/dev/null || alive=0
		line=$(tail -c +$((QPOS + 1)) "$QLOG" | grep -a -b -m 1 -E -- "$re") && {
			local off=${line%%:*} rest=${line#*:}
			QPOS=$((QPOS + off + ${#rest} + 1))
			QMATCH=$rest
			return 0
		}
		if [ "$alive" = 0 ]; then
			diag "QEMU exited while waiting for: $re"
			return 1
		fi
		[ $SECONDS -ge $end ] && { diag "timeout after ${secs}s waiting for: $re"; return 1; }
		sleep 0.2
	done
}

qemu_monitor() {
	printf '%s\n' "$1" | socat -t 2 - "UNIX-CONNECT:$QDIR/monitor" 2>&1 | tr -d '\r'
}

qemu_send() { printf '%s\n' "$1" >&"$QIN" 2>/dev/null; }

# Runs a command in the guest shell and returns its status; its output is in $QLOG. Its answer is
# told apart by a token of the run's number and the calling shell's PID: a qemu_run inside $(...)
# counts in a subshell that the caller's next run does not see, and the PID keeps the two apart.
QRUN=0
qemu_run() {
	QRUN=$((QRUN + 1))
	local tok=$QRUN.$BASHPID
	qemu_send "$1; echo \"@@$tok:\$?@@\""
	qemu_expect "@@$tok:[0-9]+@@" "${2:-30}" || return 99
	local st=${QMATCH#*@@$tok:}
	return "${st%%@@*}"
}

qemu_stop() {
	[ -n "$QPID" ] || return 0
	if kill -0 "$QPID" 2>/dev/null; then
		qemu_send "poweroff -f" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$QPID" 2>/dev/null || break; sleep 0.1; done
		kill "$QPID" 2>/dev/null
	fi
	wait "$QPID" 2>/dev/null
	exec {QIN}>&- 2>/dev/null
	QPID=
}

# Prints the console log's tail as TAP diagnostics (for a failed check).
qemu_show() { tail -n "${1:-25}" "$QLOG" | tr -d "\r" | sed "s/^/# | /"; echo; }
