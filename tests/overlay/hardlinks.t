#!/bin/bash
# hardlinks.t: every shape of hardlink group a merged view can have, through incremental saves,
# on a real overlay (directory lower, tmpfs upper). Each shape is a list of steps; after each step
# the upper is saved (a new generation) and the merged view recorded. Then every generation is
# restored with --at into a fresh tmpfs and its merged view compared with the recorded one, twice:
# by treesum (every field, link groups included) and by an independent listing (find's inode
# numbers grouped into path sets, and md5sum of every file), which does not share treesum's code.
# The same steps copied with `cp -a` instead of persist must compare equal too (the checker checked).
# After a restore, `persist status` shows nothing and a save writes no data.
# Disk layout: everything on tmpfs mounts under a temporary directory.
. "$(dirname "$0")/../lib/tap.sh"

. "$TOP/tests/lib/mounts.sh"
overlay_test treesum

scratch_dir hl || bail "cannot make a scratch directory"
mkdir -p "$W/lower/ld/deep"
echo aaa >"$W/lower/a"; echo bbb >"$W/lower/b"; echo ccc >"$W/lower/ld/c"
echo ddd >"$W/lower/ld/deep/d"; echo eee >"$W/lower/e"

fresh() { mkdir -p "$1" && mount -t tmpfs -o size=64m tmpfs "$1" && mkdir "$1/up" "$1/wk" "$1/mnt"; }
ovl() { mount -t overlay overlay -o "lowerdir=$W/lower,upperdir=$1/up,workdir=$1/wk" "$1/mnt"; }
# links DIR: the independent view: each set of upper paths sharing an inode (the merged view shows
# a copied-up file's lower inode number, see docs/persist-format.md), and every merged file's md5
links() {
	(cd "$1/up" && find . ! -type d ! -type c -links +1 -printf '%i %p\n' | sort -k2 |
		awk '{ g[$1] = g[$1] " " $2 } END { for (i in g) print g[i] }' | sort)
	(cd "$1/mnt" && find . -type f -print0 | sort -z | xargs -0 -r md5sum)
}
view() { "$H/treesum" "$1/mnt" "$1/up"; links "$1"; }
# probe DIR: which merged paths really are one file: a token appended through each multi-link
# path, then the paths that show it (changes the files: run last)
probe() {
	(cd "$1/mnt" && n=0 && find . -type f -links +1 | sort | while read -r f; do
		n=$((n + 1)); echo "probe-$n" >>"$f"
		echo "$(grep -rlx "probe-$n" . | sort | tr '\n' ' ')"
	done | sort -u)
}
lastgen() { "$P" log --file "$1" | awk 'END { print $1 }'; }

# shape NAME STEP...: each STEP is shell code run in the merged view (cd'ed there), then a save
nshape=0
shape() {
	local name=$1 s=$W/$1 g=0 step bad=0 r=$W/r-$1
	shift
	nshape=$((nshape + 1))
	fresh "$s" && ovl "$s" || bail "cannot mount the overlay for $name"
	"$P" init --file "$s/save.dat" --size 8M --quiet || bail "persist init"
	for step in "$@"; do
		(cd "$s/mnt" && eval "$step") || { diag "$name: step failed: $step"; bad=1; }
		"$P" save --upper "$s/up" --file "$s/save.dat" --quiet || { diag "$name: save after '$step' failed"; bad=1; }
		g=$(lastgen "$s/save.dat")
		view "$s" >"$s/view.$g"
		# the cp -a baseline: the same upper copied, mounted, viewed
		fresh "$r" && cp -a "$s/up/." "$r/up/" && ovl "$r" && view "$r" >"$s/cp.$g"
		umount "$r/mnt" "$r"
		cmp -s "$s/view.$g" "$s/cp.$g" || { diag "$name: the cp -a baseline differs at step $g"; bad=1; }
	done
	ok "$bad" "$name: $# steps saved, the cp -a copy of each shows the same view"
	# every generation restored and compared with the view recorded when it was saved
	bad=0
	for ((i = 1; i <= g; i++)); do
		fresh "$r" || bail "tmpfs"
		if "$P" restore --file "$s/save.dat" --into "$r/up" --at "$i" --quiet && ovl "$r"; then
			view "$r" >"$s/got.$i"
			cmp -s "$s/view.$i" "$s/got.$i" ||
				{ diag "$name: generation $i differs:"; diff "$s/view.$i" "$s/got.$i" | head -8 | sed 's/^/#   /'; bad=1; }
			umount "$r/mnt"
		else
			diag "$name: restore --at $i failed"; bad=1
		fi
		umount "$r"
	done
	ok "$bad" "$name: every generation restores its merged view (links, contents, metadata)"
	# after a restore: nothing to report, and a save writes no data
	fresh "$r" && "$P" restore --file "$s/save.dat" --into "$r/up" --quiet
	is "$("$P" status --upper "$r/up" --file "$s/save.dat")" "" "$name: status right after a restore is empty"
	out=$("$P" save --upper "$r/up" --file "$s/save.dat")
	case $out in *" 0 bytes of data"* | *"nothing changed"*) bad=0 ;; *) bad=1; diag "$out" ;; esac
	ok "$bad" "$name: a save right after a restore writes no data"
	is "$("$P" status --upper "$r/up" --file "$s/save.dat")" "" "$name: status after that save is empty"
	umount "$r"
	# the same after compaction, and the newest generation after it
	"$P" compact --file "$s/save.dat" --quiet
	fresh "$r" && "$P" restore --file "$s/save.dat" --into "$r/up" --quiet && ovl "$r" && view "$r" >"$s/got.c"
	umount "$r/mnt" "$r" 2>/dev/null
	cmp -s "$s/view.$g" "$s/got.c"
	ok $? "$name: compacted, the newest generation restores the same view"
	# the files that really share their data: probed through the merged views
	fresh "$r" && "$P" restore --file "$s/save.dat" --into "$r/up" --quiet && ovl "$r"
	is "$(probe "$r")" "$(probe "$s")" "$name: the same paths share their data (probed by writes)"
	umount "$r/mnt" "$r"
	umount "$s/mnt" "$s"
}

shape two-lower-groups 'ln a ha && ln b hb'
shape upper-groups 'echo x >x && echo y >y && mkdir -p u/v && ln x u/x2 && ln y u/v/y2 && ln x u/v/x3'
shape lower-and-upper 'ln a ha && echo n >n && ln n hn && ln ld/c ld/hc && ln n ld/deep/hn'
shape renamed-member 'ln a ha && ln b hb' 'mv ha hz' 'mkdir -p m && mv hb m/hb' 'mv b m/b2'
shape unlinked-member 'ln a h1 && ln a h2 && ln b hb' 'rm h1' 'rm a'
shape relinked 'ln a ha && ln b hb' 'rm ha && ln b ha' 'rm hb && ln a hb'
shape grow-shrink 'ln a h1' 'ln a h2 && ln h1 ld/h3' 'rm h2' 'ln ld/h3 ld/deep/h4 && rm h1'
shape different-dirs 'ln ld/c c1 && ln ld/deep/d ld/d1 && mkdir -p x/y && ln ld/c x/y/c2 && ln ld/deep/d x/d2'
shape down-to-one 'ln a ha && ln b hb' 'rm ha' 'rm b' 'ln a ha2'
shape meta-on-one-name 'ln a ha && ln b hb' 'chmod 600 ha' 'chown 7:8 hb' 'setfattr -n trusted.t -v 1 ha' \
	'touch -d 2001-02-03 hb' 'echo more >>ha'
shape many-groups 'for i in $(seq 1 20); do echo $i >f$i; done; for i in $(seq 1 20); do ln f$i l$((21 - i)); done' \
	'for i in $(seq 1 20 | shuf --random-source=<(yes)); do mv l$i k$i; done' 'rm f3 f7 k9 && ln f1 k99'
shape other-types 'ln -s a sl && ln -P sl sl2 && mkfifo ff && ln ff ff2 && mknod cd c 1 3 && ln cd ld/cd2' \
	'chmod 600 ff2 && rm sl' 'ln -P sl2 sl3 && mkdir -p x && ln ld/cd2 x/cd3'
shape whiteout-and-links 'ln a ha && rm a' 'ln ha a' 'rm -r ld && mkdir ld && ln e ld/e2'
diag "$nshape shapes"
done_testing
