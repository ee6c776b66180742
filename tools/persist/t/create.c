/* tools/persist/t/create.c: what init leaves (docs/persist-format.md): slot A only, and the first
 * save writes slot B. */
#include "helpers.h"
#include "tap.h"

int main(void)
{
	char dir[] = "/tmp/persist-create-XXXXXX", file[256], up[256], path[300];
	unsigned char b[PF_SLOT_SIZE], zero[PF_SLOT_SIZE] = { 0 };
	struct save_result res;
	struct pfile pf;
	size_t got = 0;
	int fd;

	if (!mkdtemp(dir))
		return tap_done(0);
	snprintf(file, sizeof file, "%s/s.dat", dir);
	snprintf(up, sizeof up, "%s/up", dir);
	is_int(pf_create(file, 1 << 20, PC_NONE), 0, "init");
	fd = open(file, O_RDONLY);
	ok(fd >= 0 && pread_all(fd, b, sizeof b, PF_SLOT_SIZE, &got) == 0 && got == sizeof b &&
	   !memcmp(b, zero, sizeof b), "slot B is all zeros after init");
	if (fd >= 0)
		close(fd);
	is_int(pf_open(&pf, file, 0), 0, "the file opens");
	ok(pf.slot == 0 && !pf.alt_valid && pf.hdr.gen == 0 && pf.hdr.end == 0,
	   "slot A is its header (generation 0, nothing committed); slot B is ignored");
	pf_close(&pf);
	mkdir(up, 0755);
	snprintf(path, sizeof path, "%s/f", up);
	put_file(path, "x", 1);
	is_int(persist_save(file, up, NULL, NULL, 0, &res), 0, "the first save");
	is_int(pf_open(&pf, file, 0), 0, "opens");
	ok(pf.slot == 1 && pf.alt_valid && pf.alt.gen == 0 && pf.hdr.gen == 1,
	   "the first save wrote slot B; slot A still holds init's header");
	pf_close(&pf);
	rm_rf(dir);
	return tap_done(0);
}
