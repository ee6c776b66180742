#!/usr/bin/env bash
# bench/attach.sh: issue 3's figures in the report: per attachment of the medium, the modules
# loaded and the guest time to load them and to wait for the medium (bench/modules.sh's table).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
out=$B/attach.md
table=$("$TOP/bench/modules.sh" 2>/dev/null) || note "attach: bench/modules.sh stopped with status $?"
{
	echo "## Modules and the wait for the medium, per attachment (guest clock)"
	echo
	echo "Command: \`bench/modules.sh\` (one boot per attachment, same initramfs)."
	echo
	echo '```'
	echo "${table:-not measured}"
	echo '```'
	echo
} > "$out"
exit 0
