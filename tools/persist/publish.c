/* publish.c: the one way a header is published: the other slot, fdatasync, then it is current. */
#include <errno.h>
#include <unistd.h>
#include "io.h"
#include "persist.h"

static int real_datasync(int fd)
{
	return fdatasync(fd) < 0 ? -errno : 0;
}

int (*pf_hdr_sync)(int fd) = real_datasync;

/*
 * Steps 3 and 4 of the durability argument (persist-format.md): next goes into the slot that
 * does not hold the header pf was read with, and only once fdatasync says it is on the medium
 * does pf take it as its header (the one read becomes the other slot's). Until then the slot
 * read is untouched, so a cut or a failure at any point leaves a valid header: the old or next.
 * A new file (pf_create) has no header: its slot B, all zeros, counts as the slot read.
 */
int pf_publish(struct pfile *pf, const struct phdr *next)
{
	unsigned char h[PF_HDR_LEN];
	int r;

	hdr_encode(next, h);
	pf->win_len = 0;	/* the header may move the areas (grow): forget what was read */
	r = pwrite_all(pf->fd, h, sizeof h, (off_t)(!pf->slot) * PF_SLOT_SIZE);
	if (!r)
		r = pf_hdr_sync(pf->fd);
	if (r)
		return r;
	pf->alt = pf->hdr;
	pf->alt_valid = 1;
	pf->hdr = *next;
	pf->slot = !pf->slot;
	return 0;
}
