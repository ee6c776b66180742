/*
 * initramfs/t/savetry.c: the boots that restore the save file counted in the slot record
 * (slot.c's save_try, docs/updates.md "A save that breaks the boot"): nothing is counted before a
 * boot was marked good; then three boots restore the newest generation, three more the last good
 * one, then a clean boot that only reads the save file; live.persist.at= and live.slot= are not
 * counted. Each boot is a fresh context over the same record file, read back with slotio_load.
 */
#include "slotio.h"
#include "stagetest.h"

static struct tree t;
static struct init_ctx c;

/* One boot: the slot chosen from the record (slot_choose), then save_try's answer. */
static long long boot(void)
{
	char base[128];

	ctx_next(&c, &t);
	snprintf(c.cfg.root, sizeof c.cfg.root, "/live/root.sqfs");
	if (slot_choose(&c, "/live", "root.sqfs", base, sizeof base) < 0)
		return -100;
	return save_try(&c);
}

static struct slotrec on_medium(void)
{
	struct slotrec r = { 0 };
	const char *why;
	int newest, dfd = openat(t.root, "live", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0 || slotio_load(dfd, SLOTREC_FILE, &r, &newest, &why) < 0)
		r.gen = 0;
	if (dfd >= 0)
		close(dfd);
	return r;
}

int main(void)
{
	static const unsigned char zeros[SLOTREC_FILE_SIZE];
	struct slotrec marked = { .gen = 1, .good = SLOT_A, .pending = SLOT_NONE, .save_good = 7 }, r;
	long long got;
	int dfd;

	if (case_start(&t, &c, 20) < 0)
		return tap_done(0);
	put_file(t.root, "live/" SLOTREC_FILE, zeros, sizeof zeros);

	got = boot();
	tap_ok(got == 0 && c.save_mark && c.slot_file && !c.slot_record, "a zero record: the newest, a mark wanted, "
	       "nothing counted");
	tap_ok(on_medium().gen == 0, "  and nothing written");

	/* what overlive-update --mark-good writes after that boot: generation 7 was good */
	dfd = openat(t.root, "live", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tap_ok(slotio_store(dfd, SLOTREC_FILE, NULL, &marked, 0) == 0, "a boot marked good with generation 7");
	close(dfd);

	for (int k = 1; k <= SLOTREC_SAVE_TRIES; k++) {
		got = boot();
		r = on_medium();
		tap_ok(got == 0 && r.save_boots == k && r.save_good == 7 && r.gen == (uint64_t)k + 1,
		       "boot %d: the newest generation, the boot counted on the medium first (%lld, %u)", k, got,
		       r.save_boots);
	}
	tap_ok(logged(&c, "boot 3 of 3 since one was marked good (generation 7)"), "  the third says so");
	for (int k = SLOTREC_SAVE_TRIES + 1; k <= SLOTREC_SAVE_GIVEUP; k++) {
		got = boot();
		tap_ok(got == 7 && on_medium().save_boots == k && !c.persist_ro[0],
		       "boot %d: generation 7, the last one marked good (%lld)", k, got);
	}
	tap_ok(logged(&c, "did not reach the system's goal in 3 boots") && logged(&c, "restoring generation 7"),
	       "  and says why");
	got = boot();
	tap_ok(got == -1 && c.persist_ro[0] && strstr(c.persist_ro, "generation 7"),
	       "boot %d: neither reached the goal: a clean boot, the save only read (%s)", SLOTREC_SAVE_GIVEUP + 1,
	       c.persist_ro);
	tap_ok(logged(&c, "booting clean, the save file only read"), "  and says so");

	r = on_medium();
	ctx_next(&c, &t);
	c.cfg.persist_at = 3;
	{
		char base[128];
		snprintf(c.cfg.root, sizeof c.cfg.root, "/live/root.sqfs");
		slot_choose(&c, "/live", "root.sqfs", base, sizeof base);
	}
	got = save_try(&c);
	tap_ok(got == 0 && on_medium().gen == r.gen, "live.persist.at=: not counted, nothing written");
	ctx_next(&c, &t);
	c.cfg.slot = SLOT_A;
	{
		char base[128];
		snprintf(c.cfg.root, sizeof c.cfg.root, "/live/root.sqfs");
		slot_choose(&c, "/live", "root.sqfs", base, sizeof base);
	}
	got = save_try(&c);
	tap_ok(got == 0 && on_medium().gen == r.gen, "live.slot=: not counted, nothing written");

	/* the mark of a boot: save_boots back to 0, generation 9 the good one */
	marked = r;
	marked.gen++;
	marked.save_boots = 0;
	marked.save_good = 9;
	dfd = openat(t.root, "live", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	slotio_store(dfd, SLOTREC_FILE, NULL, &marked, 1);
	close(dfd);
	got = boot();
	tap_ok(got == 0 && on_medium().save_boots == 1, "after a mark: the newest again, counted from 1");
	unlinkat(t.root, "live/" SLOTREC_FILE, 0);
	got = boot();
	tap_ok(got == 0 && !c.save_mark && !c.slot_file, "no record file: nothing counted, no mark wanted");
	case_end(&t, &c);
	return tap_done(0);
}
