/*
 * slotrec-fuzzer.c: the libFuzzer harness of the slot record (lib/slotrec.c): the input is the
 * record file, live/slots. Properties (docs/fuzzing.md): a record chosen is one the init may act
 * on (good A or B, pending another slot or none, tries within the bound and none without a
 * pending slot); its copy's first 32 bytes are exactly what slotrec_encode writes for it (one
 * encoding per record: no second reading of the same bytes); no valid copy has a newer
 * generation than the one chosen; the same bytes choose the same twice.
 */
#include <errno.h>
#include "slotrec.h"
#include "fuzz.h"

const char *fuzz_modes[] = { "file", NULL };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct slotrec r, r2, c;
	unsigned char enc[SLOTREC_COPY_SIZE];
	const char *why = NULL, *why2 = NULL, *w;
	int newest = -1, newest2 = -1;

	(void)fuzz_mode();
	if (size > SLOTREC_FILE_SIZE * 2)
		return 0;
	int e = slotrec_choose(data, size, &r, &newest, &why);
	int e2 = slotrec_choose(data, size, &r2, &newest2, &why2);
	fuzz_assert(e == e2 && (e || (newest == newest2 && r.gen == r2.gen)), "the same file chosen two ways");
	fuzz_assert(e == 0 || e == -ENOENT || e == -EBADMSG, "an error other than -ENOENT and -EBADMSG: %d", e);
	if (e == -EBADMSG)
		fuzz_assert(why != NULL, "a refusal without its why");
	if (e)
		return 0;
	fuzz_assert(newest == 0 || newest == 1, "copy %d chosen", newest);
	fuzz_assert(r.gen && (r.good == SLOT_A || r.good == SLOT_B), "good slot %u, generation %llu", r.good,
		    (unsigned long long)r.gen);
	fuzz_assert(r.pending == SLOT_NONE ? r.tries == 0 : (r.pending != r.good && r.pending <= SLOT_B &&
		    r.tries <= SLOTREC_MAX_TRIES), "pending %u with %u tries, good %u", r.pending, r.tries, r.good);
	size_t off = (size_t)slotrec_copy_off(newest);
	fuzz_assert(off + SLOTREC_COPY_SIZE <= size, "copy %d chosen from a file of %zu bytes", newest, size);
	slotrec_encode(&r, enc);
	fuzz_assert(!memcmp(enc, data + off, 32), "copy %d's bytes are not the encoding of what it was read as", newest);
	int other = 1 - newest;
	size_t ooff = (size_t)slotrec_copy_off(other);
	if (ooff < size && slotrec_decode(data + ooff, size - ooff, &c, &w) == 0)
		fuzz_assert(c.gen <= r.gen, "copy %d (generation %llu) is newer than the one chosen (%llu)", other,
			    (unsigned long long)c.gen, (unsigned long long)r.gen);
	return 0;
}
