/*
 * tools/persist/t/publish.c: every header (init, save, compact, rollback, grow) is published
 * through pf_publish, in the order of the durability argument (docs/persist-format.md): into
 * the slot not read from, synced, and only then the header of the open file.
 */
#include "helpers.h"
#include "tap.h"

/* What the slots held before the publish under way: its sync checks the file against it. */
static unsigned char before[2][PF_HDR_LEN];
static int syncs, bad_order, fail_sync;
static const struct pfile *watch;	/* the open file being written, when the test has it */

/* The two slots of the file open as fd (opened again: init's fd is write-only). */
static void slots(int fd, unsigned char s[2][PF_HDR_LEN])
{
	char me[64];
	size_t got;
	int rfd;

	snprintf(me, sizeof me, "/proc/self/fd/%d", fd);
	rfd = open(me, O_RDONLY);
	for (int i = 0; i < 2; i++)
		if (rfd < 0 || pread_all(rfd, s[i], PF_HDR_LEN, (off_t)i * PF_SLOT_SIZE, &got) || got != PF_HDR_LEN)
			memset(s[i], 0, PF_HDR_LEN);
	if (rfd >= 0)
		close(rfd);
}

/* The slot the newest valid header is in (1 when neither is valid: a new file), and its seq. */
static int newest(unsigned char s[2][PF_HDR_LEN], uint64_t *seq)
{
	struct phdr h[2];
	int v0 = hdr_decode(s[0], &h[0]) == 0, v1 = hdr_decode(s[1], &h[1]) == 0;
	int slot = !v0 ? 1 : !v1 ? 0 : h[1].seq > h[0].seq;

	*seq = (slot ? v1 : v0) ? h[slot].seq : 0;
	return slot;
}

/*
 * The seam: called by pf_publish between its write and its swap. The slot read must be as it
 * was, the other must hold the next header, and the open file must not have taken it yet.
 */
static int checking_sync(int fd)
{
	unsigned char now[2][PF_HDR_LEN];
	struct phdr h;
	uint64_t seq;
	int read = newest(before, &seq);

	syncs++;
	slots(fd, now);
	if (memcmp(now[read], before[read], PF_HDR_LEN) || hdr_decode(now[!read], &h) || h.seq != seq + 1) {
		tap_diag("sync %d: slot %d was written, or slot %d does not hold seq %llu", syncs, read, !read,
			 (unsigned long long)seq + 1);
		bad_order++;
	}
	if (watch && (watch->hdr.seq != seq || watch->slot != read)) {
		tap_diag("sync %d: the open file took its new header before the sync", syncs);
		bad_order++;
	}
	if (fail_sync)
		return -EIO;
	if (fdatasync(fd) < 0)
		return -errno;
	memcpy(before, now, sizeof now);	/* the next publish (grow after compact) reads these */
	return 0;
}

static void arm(const char *file, const struct pfile *pf)
{
	int fd = open(file, O_RDONLY);

	slots(fd, before);	/* zeros when there is no file yet */
	if (fd >= 0)
		close(fd);
	syncs = bad_order = 0;
	watch = pf;
}

/* After one operation: it published n headers, in order, and the file's newest is the open one's. */
static void check(const char *what, const char *file, const struct pfile *pf, int r, int n)
{
	unsigned char now[2][PF_HDR_LEN];
	uint64_t seq;
	int fd = open(file, O_RDONLY), slot;

	is_int(r, 0, what);
	is_int(syncs, n, "  published through pf_publish");
	is_int(bad_order, 0, "  each into the slot not read, synced before it was taken");
	slots(fd, now);
	if (fd >= 0)
		close(fd);
	slot = newest(now, &seq);
	if (pf)
		ok(pf->slot == slot && pf->hdr.seq == seq, "  the open file's header is the newest on disk");
}

int main(void)
{
	char dir[] = "/tmp/persist-publish-XXXXXX", file[256], up[256], p[300];
	struct save_result res;
	struct pfile pf;
	struct phdr was;
	int r;

	if (!mkdtemp(dir))
		return tap_done(0);
	snprintf(file, sizeof file, "%s/s.dat", dir);
	snprintf(up, sizeof up, "%s/up", dir);
	mkdir(up, 0755);
	pf_hdr_sync = checking_sync;

	arm(file, NULL);
	check("init", file, NULL, pf_create(file, 1 << 20, PC_NONE), 1);
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/f%d", up, i);
		put_file(p, "some bytes", 10);
		arm(file, NULL);
		check("save", file, NULL, persist_save(file, up, NULL, NULL, 0, &res), 1);
	}
	pf_open(&pf, file, 1);
	arm(file, &pf);
	check("rollback", file, &pf, persist_rollback(&pf, pf.hdr.gen - 1, 0, &res), 1);
	arm(file, &pf);
	check("compact", file, &pf, persist_compact(&pf, &res), 1);
	ok(pf.hdr.area == 1, "compact moved the state to area 1");
	arm(file, &pf);
	check("grow from area 1 (compact, then the new size)", file, &pf, persist_grow(&pf, file, 2 << 20, &res), 2);
	pf_close(&pf);
	put_file(p, "other bytes", 11);
	arm(file, NULL);
	check("save after grow", file, NULL, persist_save(file, up, NULL, NULL, 0, &res), 1);
	pf_open(&pf, file, 1);

	/* A failed sync: the open file keeps the header it was read with. */
	fail_sync = 1;
	was = pf.hdr;
	arm(file, &pf);
	r = persist_rollback(&pf, pf.hdr.gen - 1, 0, &res);
	ok(r == -EIO && syncs == 1, "rollback whose header sync fails reports it");
	ok(pf.hdr.seq == was.seq && pf.hdr.gen == was.gen, "  and its open file keeps the old header");
	fail_sync = 0;
	pf_close(&pf);
	rm_rf(dir);
	return tap_done(0);
}
