#!/usr/bin/python3
# umts_hook.py: runs unionmount-testsuite's `run` unchanged, with one hook: when a test case ends
# (the suite's unmount_union, called once per test after its last subtest), the union is
# unmounted, ORACLE_HOOK is called with the layers the suite used, and the union is mounted again
# exactly as before so that the suite's own teardown goes on as usual.
#
# usage: umts_hook.py SUITE_DIR RUN_ARGS...   (ORACLE_HOOK=program in the environment)
# ORACLE_HOOK is called as: HOOK TEST_NAME LOWERDIRS UPPERDIR WORKDIR MOUNT_OPTIONS
# Its exit status is ignored here (it keeps its own record); the suite's verdict is its own.
# Nothing of the suite is copied: it is imported from SUITE_DIR.
import os, shlex, subprocess, sys

suite = os.path.abspath(sys.argv[1])
hook = shlex.split(os.environ["ORACLE_HOOK"])
sys.path.insert(0, suite)
os.chdir(suite)
sys.argv = [os.path.join(suite, "run")] + sys.argv[2:]

import unmount_union as um
from tool_box import system

orig_unmount = um.unmount_union
g = {"__name__": "__main__", "__file__": sys.argv[0]}


def hooked_unmount(ctx):
    cfg = ctx.config()
    mnt = cfg.union_mntroot()
    upper = ctx.upper_layer()
    work = os.path.join(os.path.dirname(upper), "w")
    lowers = ctx.lower_layers()
    opts = cfg.mntopts()
    if opts.startswith("-o"):
        opts = opts[2:]
    system("umount " + mnt)
    sys.stdout.flush()
    subprocess.call(hook + [g.get("test", "?"), lowers, upper, work, opts])
    system("mount -t " + cfg.fstype() + " " + cfg.fsname() + " " + mnt + " " + cfg.mntopts() +
           " -olowerdir=" + lowers + ",upperdir=" + upper + ",workdir=" + work)
    orig_unmount(ctx)


um.unmount_union = hooked_unmount
with open(sys.argv[0]) as f:
    code = compile(f.read(), sys.argv[0], "exec")
exec(code, g)
