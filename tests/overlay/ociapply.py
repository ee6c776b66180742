#!/usr/bin/env python3
# ociapply.py LAYER.tar DIR: applies an OCI image-spec layer over DIR (a copy of the lower) the way
# the spec's "Applying Changesets" says, with Python's tarfile as the reader: an independent
# applier for tests/overlay/export.t (it shares no code with persist's writer).
#   .wh..wh..opq   removes every entry of its directory present before this layer
#   .wh.NAME       removes NAME (and what is below it)
#   any other      replaces what is at its path, except a directory over a directory (metadata only)
#   a hardlink     links to its target, already applied
# Owners numeric, modes, xattrs (SCHILY.xattr.*), mtimes with nanoseconds (the pax record itself);
# directories' times are set last, deepest first.
import os, shutil, stat, sys, tarfile

def remove(p):
    if os.path.isdir(p) and not os.path.islink(p):
        shutil.rmtree(p)
    elif os.path.lexists(p):
        os.unlink(p)

def mtime_ns(m):
    s = m.pax_headers.get('mtime')
    if s is None:
        return int(m.mtime) * 10**9
    neg = s.startswith('-')
    whole, _, frac = s.lstrip('-').partition('.')
    ns = int(whole) * 10**9 + int((frac + '000000000')[:9])
    return -ns if neg else ns

def main(layer, root):
    fresh = set()     # directories this layer made or changed: an opaque marker clears only the older entries
    dirtimes = []
    with tarfile.open(layer, 'r:*') as t:
        seen = set()
        for m in t:
            name = m.name.rstrip('/')
            if name in seen:
                sys.exit('ociapply: %s: a path twice in one layer' % name)
            seen.add(name)
            if m.issparse():
                sys.exit('ociapply: %s: a sparse entry' % name)
            d, b = os.path.split(name)
            dst = os.path.join(root, name)
            if b == '.wh..wh..opq':
                dd = os.path.join(root, d)
                for c in os.listdir(dd):
                    if os.path.join(d, c) in seen:
                        sys.exit('ociapply: %s: opaque marker after an entry of its directory' % name)
                    remove(os.path.join(dd, c))
                continue
            if b.startswith('.wh.'):
                remove(os.path.join(root, d, b[4:]))
                continue
            if not (m.isdir() and os.path.isdir(dst) and not os.path.islink(dst)):
                remove(dst)
            if m.isdir():
                if not os.path.isdir(dst):
                    os.mkdir(dst)
            elif m.islnk():
                os.link(os.path.join(root, m.linkname), dst, follow_symlinks=False)
                continue
            elif m.isreg():
                with open(dst, 'wb') as f:
                    shutil.copyfileobj(t.extractfile(m), f)
            elif m.issym():
                os.symlink(m.linkname, dst)
            elif m.ischr() or m.isblk():
                os.mknod(dst, (stat.S_IFCHR if m.ischr() else stat.S_IFBLK) | 0o600,
                         os.makedev(m.devmajor, m.devminor))
            elif m.isfifo():
                os.mkfifo(dst)
            else:
                sys.exit('ociapply: %s: unknown type %r' % (name, m.type))
            os.lchown(dst, m.uid, m.gid)
            if not m.issym():
                os.chmod(dst, m.mode)
            # existing xattrs of a directory kept as a directory are replaced by the layer's
            if m.isdir():
                for k in os.listxattr(dst, follow_symlinks=False):
                    os.removexattr(dst, k, follow_symlinks=False)
            for k, v in m.pax_headers.items():
                if k.startswith('SCHILY.xattr.'):
                    os.setxattr(dst, k[13:], v.encode('utf-8', 'surrogateescape'), follow_symlinks=False)
            ns = mtime_ns(m)
            if m.isdir():
                dirtimes.append((dst, ns))
            else:
                os.utime(dst, ns=(ns, ns), follow_symlinks=False)
    for p, ns in sorted(dirtimes, key=lambda x: -x[0].count('/')):
        os.utime(p, ns=(ns, ns), follow_symlinks=False)

if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
