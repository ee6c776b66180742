#!/usr/bin/env bash
# tests/build/modules-extra.t: MODULES_EXTRA="mod1 mod2" ./build.sh adds modules to the
# initramfs; an unknown name fails the build with a message naming it.
# Builds into a scratch O (the programs copied from $O, so nothing recompiles) with the kernel
# and module tree of the main build.
. "$(dirname "$0")/../lib/tap.sh"
tree=${MODULE_TREE:-$(ls -d "$TOP"/cache/kernel/*/lib/modules/* 2>/dev/null | sort -V | tail -n 1)}
[ -f "$O/vmlinuz" ] && [ -x "$O/bin/modpick" ] || skip_all "build first: ./build.sh"
[ -d "$tree/kernel" ] || skip_all "no module tree (set MODULE_TREE=lib/modules/VERSION)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out"
cp -a "$O/bin" "$tmp/out/"
cp "$O/vmlinuz" "$tmp/vmlinuz"

build() { O=$tmp/out KERNEL=$tmp/vmlinuz MODULES=$tree MODULES_EXTRA="$1" "$TOP/build.sh" > "$tmp/log" 2>&1; }

build "e1000 nosuch_module_xyz"
st=$?
ok $((st == 0)) "MODULES_EXTRA with an unknown module: the build fails (exit $st)"
grep -q 'nosuch_module_xyz' "$tmp/log" && grep -q 'fatal' "$tmp/log"
ok $? "the message names the unknown module"
grep -a 'nosuch_module_xyz' "$tmp/log" | head -n 3 | sed 's/^/# /'

if build "e1000 nls-utf8"; then
	ok 0 "MODULES_EXTRA=\"e1000 nls-utf8\": the build succeeds"
	idx=$tmp/out/initramfs.d/lib/modules/modules.idx
	grep -q '^m e1000 d' "$idx" && grep -q '^a e1000 pci:' "$idx"
	ok $? "e1000 is in the index, loaded on demand by its PCI aliases"
	grep -q "^m nls_utf8 b" "$idx" && grep -q "^s nls_utf8 [0-9]" "$idx"
	ok $? "nls-utf8 (no device alias) is in the module pack as nls_utf8 and loaded at boot"
	grep -q '==> initramfs: .*bytes' "$tmp/log"
	ok $? "the build prints the initramfs size"
else
	ok 1 "MODULES_EXTRA=\"e1000 nls-utf8\": the build succeeds"
	sed 's/^/# /' "$tmp/log" | tail -n 20
	skip 3 "no build"
fi
done_testing
