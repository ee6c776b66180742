/* main.c: powercut's command line: serve an image over NBD with a volatile cache, replay logs. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "cache.h"
#include "listen.h"
#include "nbd.h"
#include "number.h"
#include "record.h"
#include "replay.h"
#include "report.h"
#include "serve.h"

const char *prog_name = "powercut";

/* A client silent this long inside a message is treated as gone. */
#define STALL_SECONDS 30

static const char usage[] =
"usage: powercut --socket SOCK [OPTIONS] IMAGE\n"
"       powercut replay --log LOG --base IMG --out IMG --epoch E [--writes W] [CUT]\n"
"       powercut info --log LOG\n"
"\n"
"Serves the raw IMAGE over NBD on the unix socket SOCK (export \"disk\", one client) like a\n"
"disk with a volatile write cache: writes since the last FLUSH are lost or kept at a cut as\n"
"the policy says. At the cut it writes the survivors to IMAGE, prints one line\n"
"(cut trigger=... policy=... seed=... epoch=... writes=... dropped=...) and exits 0.\n"
"\n"
"Cut triggers (the client disconnecting and the signals always cut):\n"
"  --cut-after-write N   when the Nth write (WRITE, WRITE_ZEROES, TRIM) is cached, unanswered\n"
"  --cut-at-flush N      when the Nth FLUSH arrives, before it is done\n"
"  --cut-after-ms T      T milliseconds after the client entered transmission\n"
"  SIGUSR1, SIGTERM, SIGINT, SIGHUP: cut now\n"
"CUT (which unflushed writes survive; FUA writes always do):\n"
"  -p, --policy P        none (default) | prefix (the first K, in order) | random (a subset)\n"
"  -k, --keep K          the prefix length (default: drawn from the seed)\n"
"  -S, --seed S          seed of the choices (default: from the clock; always printed)\n"
"  -t, --torn            a kept write may end at a tear-unit boundary inside it\n"
"      --tear-unit BYTES the tear unit: torn writes end at a multiple of BYTES on the\n"
"                        disk (a power of two, 512..1M; default 512, a sector)\n"
"Other:\n"
"  -s, --socket SOCK     the unix socket to listen on (appears once it accepts)\n"
"  -r, --record LOG      log every write and flush, for `powercut replay`\n"
"      --cache-max MIB   bound of the cached data (default 1024)\n"
"  -h, --help\n"
"replay: copies --base (IMAGE as it was when the recorded run began) to --out, plays the\n"
"log up to the position (after flush E, and write W if given) and cuts it with CUT.\n"
"info: prints how many writes each epoch of a log has.\n"
"Numbers are decimal (digits only); BYTES takes a size suffix too: 4K is 4096.\n"
"Exit: 0 after a cut, 100 bad usage or input, 111 system failure.\n";

struct opts {
	const char *socket, *image, *record, *log, *base, *out;
	struct cut_spec spec;
	int have_seed, have_epoch;
	uint64_t cut_after_write, cut_at_flush, cut_after_ms, cache_max, epoch, writes;
};

enum { O_CUT_WRITE = 256, O_CUT_FLUSH, O_CUT_MS, O_CACHE_MAX, O_LOG, O_BASE, O_OUT,
       O_EPOCH, O_WRITES, O_TEAR_UNIT };

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "policy", required_argument, NULL, 'p' },
	{ "keep", required_argument, NULL, 'k' },
	{ "seed", required_argument, NULL, 'S' },
	{ "torn", no_argument, NULL, 't' },
	{ "tear-unit", required_argument, NULL, O_TEAR_UNIT },
	{ "record", required_argument, NULL, 'r' },
	{ "help", no_argument, NULL, 'h' },
	{ "cut-after-write", required_argument, NULL, O_CUT_WRITE },
	{ "cut-at-flush", required_argument, NULL, O_CUT_FLUSH },
	{ "cut-after-ms", required_argument, NULL, O_CUT_MS },
	{ "cache-max", required_argument, NULL, O_CACHE_MAX },
	{ "log", required_argument, NULL, O_LOG },
	{ "base", required_argument, NULL, O_BASE },
	{ "out", required_argument, NULL, O_OUT },
	{ "epoch", required_argument, NULL, O_EPOCH },
	{ "writes", required_argument, NULL, O_WRITES },
	{ NULL, 0, NULL, 0 },
};

/* A count or a time: a decimal number (lib/number.h's rule, as persist's). */
static uint64_t number(const char *opt, const char *s)
{
	uint64_t v;
	int r = parse_u64(s, &v);

	if (r)
		die_msg(EXIT_USAGE, 0, "unable to use %s '%s': %s; see --help", opt, s, number_why(r));
	return v;
}

/* A number of bytes: a size, with the suffixes of lib/number.h. */
static uint64_t size(const char *opt, const char *s)
{
	uint64_t v;
	int r = parse_size(s, &v);

	if (r)
		die_msg(EXIT_USAGE, 0, "unable to use %s '%s': %s; see --help", opt, s, size_why(r));
	return v;
}

static void parse(int argc, char **argv, struct opts *o)
{
	int c;

	o->spec.keep = -1;
	o->spec.tear_unit = CUT_SECTOR;
	o->cache_max = CACHE_DEFAULT_BYTES >> 20;
	while ((c = getopt_long(argc, argv, "s:p:k:S:tr:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'p':
			if (cut_policy_parse(optarg, &o->spec.policy))
				die_msg(EXIT_USAGE, 0, "unable to use policy '%s': "
					"not none, prefix or random", optarg);
			break;
		case 'k': o->spec.keep = (int64_t)(number("--keep", optarg) & INT64_MAX); break;
		case 'S': o->spec.seed = number("--seed", optarg); o->have_seed = 1; break;
		case 't': o->spec.torn = 1; break;
		case O_TEAR_UNIT: {
			uint64_t u = size("--tear-unit", optarg);

			if (cut_tear_unit_check(u))
				die_msg(EXIT_USAGE, 0, "unable to use --tear-unit '%s': not a power of "
					"two from 512 to 1048576 bytes", optarg);
			o->spec.tear_unit = (uint32_t)u;
			break;
		}
		case 'r': o->record = optarg; break;
		case 'h': fputs(usage, stdout); exit(0);
		case O_CUT_WRITE: o->cut_after_write = number("--cut-after-write", optarg); break;
		case O_CUT_FLUSH: o->cut_at_flush = number("--cut-at-flush", optarg); break;
		case O_CUT_MS: o->cut_after_ms = number("--cut-after-ms", optarg); break;
		case O_CACHE_MAX: o->cache_max = number("--cache-max", optarg); break;
		case O_LOG: o->log = optarg; break;
		case O_BASE: o->base = optarg; break;
		case O_OUT: o->out = optarg; break;
		case O_EPOCH: o->epoch = number("--epoch", optarg); o->have_epoch = 1; break;
		case O_WRITES: o->writes = number("--writes", optarg); break;
		default:
			die_msg(EXIT_USAGE, 0, "unable to read the command line; see --help");
		}
	}
	if (o->cache_max == 0 || o->cache_max > (1ULL << 30))
		die_msg(EXIT_USAGE, 0, "unable to use --cache-max %" PRIu64 ": not 1..%llu MiB",
			o->cache_max, 1ULL << 30);
}

/* The one line a cut prints, on stdout: everything needed to replay it. */
static void print_cut(const char *trigger, const struct cut_spec *spec, uint64_t epoch,
		      uint64_t writes, const struct cut_stats *st)
{
	char keep[24] = "-";

	if (spec->policy == CUT_PREFIX)
		snprintf(keep, sizeof keep, "%zu", st->keep);
	printf("cut trigger=%s policy=%s seed=%" PRIu64 " keep=%s torn=%d tear_unit=%" PRIu32
	       " epoch=%" PRIu64 " writes=%" PRIu64 " unflushed=%zu kept=%zu torn_writes=%zu"
	       " dropped=%zu\n", trigger, cut_policy_name(spec->policy), spec->seed, keep,
	       spec->torn, spec->tear_unit, epoch, writes, st->unflushed, st->kept, st->torn,
	       st->dropped);
	fflush(stdout);
}

static int open_image(const char *path, uint64_t *size)
{
	struct stat st;
	off_t end;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		die_msg(e == ENOENT || e == ENOTDIR || e == EISDIR ? EXIT_USAGE : EXIT_SYSTEM, e,
			"unable to open image %s", path);
	}
	if (fstat(fd, &st) || (end = lseek(fd, 0, SEEK_END)) < 0)
		die_msg(EXIT_SYSTEM, errno, "unable to read the size of image %s", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		die_msg(EXIT_USAGE, 0, "unable to serve %s: not a file or block device", path);
	if (end == 0 || end % NBD_MIN_BLOCK)
		die_msg(EXIT_USAGE, 0, "unable to serve image %s: its size %lld is not a "
			"positive multiple of 512; truncate -s it", path, (long long)end);
	*size = (uint64_t)end;
	return fd;
}

/* Blocks the cut signals and returns a signalfd for them. */
static int signal_fd(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) || (fd = signalfd(-1, &set, SFD_CLOEXEC)) < 0)
		die_msg(EXIT_SYSTEM, errno, "unable to set up signals");
	return fd;
}

static const struct { int sig; const char *name; } sig_names[] = {
	{ SIGUSR1, "sigusr1" }, { SIGTERM, "sigterm" }, { SIGINT, "sigint" }, { SIGHUP, "sighup" },
};

/* What a session event means for the cut line; NULL: keep serving. */
static const char *const event_trigger[] = {
	[SERVE_MORE] = NULL, [SERVE_END] = "disconnect",
	[SERVE_CUT_WRITE] = "write", [SERVE_CUT_FLUSH] = "flush",
};

static const char *read_signal(int fd)
{
	struct signalfd_siginfo si;
	size_t i;

	if (read(fd, &si, sizeof si) != (ssize_t)sizeof si)
		return "signal";
	for (i = 0; i < sizeof sig_names / sizeof sig_names[0]; i++)
		if ((int)si.ssi_signo == sig_names[i].sig)
			return sig_names[i].name;
	return "signal";
}

/* Waits for a client that completes the handshake; NULL-trigger means connected. */
static const char *accept_client(int lfd, int sfd, const struct nbd_export *ex, int *conn)
{
	const struct timeval stall = { .tv_sec = STALL_SECONDS };

	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		int fd, r;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_msg(EXIT_SYSTEM, errno, "unable to wait for a client");
		}
		if (p[1].revents)
			return read_signal(sfd);
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* Signals wait while a message is half read: a client stalled inside one
		 * must not keep the server from them for ever. Between requests poll waits. */
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof stall);
		r = nbd_handshake(fd, ex);
		if (r == NBD_HS_TRANSMIT) {
			*conn = fd;
			return NULL;
		}
		if (r < 0)
			warn_msg(r, "unable to complete the handshake with a client");
		close(fd);  /* a probe (list, info, abort): wait for the next one */
	}
}

static int serve_main(struct opts *o)
{
	struct nbd_export ex = { .tflags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH |
		NBD_FLAG_SEND_FUA | NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES };
	struct record rec = { 0 };
	struct cache cache;
	struct serve s = { .fd = -1 };
	struct cut_stats st;
	const char *trigger;
	int img, lfd, sfd, tfd = -1, r;

	img = open_image(o->image, &ex.size);
	cache_init(&cache, img, ex.size, o->cache_max << 20);
	s.cache = &cache;
	s.cut_after_write = o->cut_after_write;
	s.cut_at_flush = o->cut_at_flush;
	s.buf = malloc(NBD_MAX_LEN);
	if (!s.buf)
		die_msg(EXIT_SYSTEM, ENOMEM, "unable to allocate the request buffer");
	if (o->record) {
		r = record_create(&rec, o->record, ex.size);
		if (r)
			die_msg(EXIT_SYSTEM, r, "unable to create record log %s", o->record);
		s.rec = &rec;
	}
	sfd = signal_fd();
	lfd = listen_unix(o->socket);
	if (lfd == -EADDRINUSE)
		die_msg(EXIT_SYSTEM, 0, "unable to listen on %s: socket in use by another server; "
			"stop it or choose another path", o->socket);
	if (lfd == -EEXIST || lfd == -ENAMETOOLONG)
		die_msg(EXIT_USAGE, 0, "unable to listen on %s: %s", o->socket, lfd == -EEXIST ?
			"it exists and is not a socket" : "the path is too long for a unix socket");
	if (lfd < 0)
		die_msg(EXIT_SYSTEM, lfd, "unable to listen on %s", o->socket);
	trigger = accept_client(lfd, sfd, &ex, &s.fd);
	close(lfd);
	(void)unlink(o->socket); /* one client: nobody else may connect */
	if (!trigger && o->cut_after_ms) {
		struct itimerspec it = { .it_value = { .tv_sec = (time_t)(o->cut_after_ms / 1000),
			.tv_nsec = (long)(o->cut_after_ms % 1000) * 1000000 } };
		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
		if (tfd < 0 || timerfd_settime(tfd, 0, &it, NULL))
			die_msg(EXIT_SYSTEM, errno, "unable to set the cut timer");
	}
	while (!trigger) {
		struct pollfd p[3] = { { .fd = s.fd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN }, { .fd = tfd, .events = POLLIN } };

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_msg(EXIT_SYSTEM, errno, "unable to wait for requests");
		}
		if (p[1].revents) {
			trigger = read_signal(sfd);
			break;
		}
		if (p[2].revents) {
			trigger = "time";
			break;
		}
		r = serve_step(&s);
		if (r == -ENOBUFS)
			die_msg(EXIT_SYSTEM, 0, "unable to cache write %" PRIu64 ": the cache is full "
				"(%" PRIu64 " MiB); raise --cache-max or flush more often",
				s.writes, o->cache_max);
		if (s.rec_err)
			die_msg(EXIT_SYSTEM, r, "unable to write record log %s", o->record);
		if (r == -ENOMEM)
			die_msg(EXIT_SYSTEM, r, "unable to keep write %" PRIu64, s.writes);
		if (r == -EPROTO)
			warn_msg(0, "client broke the protocol: treating it as a disconnect");
		if (r < 0)
			trigger = "disconnect"; /* a failed connection is a gone client */
		else
			trigger = event_trigger[r];
	}
	r = cache_cut(&cache, &o->spec, &st);
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to write the cut to image %s", o->image);
	print_cut(trigger, &o->spec, s.flushes, s.writes, &st);
	r = record_close(&rec);
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to write record log %s", o->record);
	if (close(img))
		die_msg(EXIT_SYSTEM, errno, "unable to close image %s", o->image);
	free(s.buf);
	cache_free(&cache);
	return 0;
}

static int replay_main(struct opts *o)
{
	struct replay_args a = { .log = o->log, .base = o->base, .out = o->out,
				 .epoch = o->epoch, .writes = o->writes, .spec = o->spec };
	struct replay_result res;
	int r;

	if (!o->log || !o->base || !o->out || !o->have_epoch)
		die_msg(EXIT_USAGE, 0, "unable to replay: --log, --base, --out and --epoch are "
			"needed; see --help");
	r = replay_run(&a, &res);
	if (r == -ERANGE)
		die_msg(EXIT_USAGE, 0, "unable to replay: log %s has no epoch %" PRIu64
			" with write %" PRIu64 "; see powercut info", o->log, o->epoch, o->writes);
	if (r == -EINVAL)
		die_msg(EXIT_USAGE, 0, "unable to replay %s: corrupt log, or base %s is not the "
			"size the log was made for", o->log, o->base);
	if (r)
		die_msg(EXIT_SYSTEM, r, "unable to replay onto %s (%s)", o->out, res.what);
	if (res.truncated)
		warn_msg(0, "log %s ends in a partial record (the server was killed)", o->log);
	print_cut("replay", &o->spec, res.flushes, res.writes, &res.st);
	return 0;
}

static int info_main(struct opts *o)
{
	uint64_t *counts, total = 0;
	size_t n, i;
	int truncated, r;

	if (!o->log)
		die_msg(EXIT_USAGE, 0, "unable to read a log: --log is needed; see --help");
	r = replay_scan(o->log, &counts, &n, &truncated);
	if (r)
		die_msg(r == -EINVAL ? EXIT_USAGE : EXIT_SYSTEM, r, "unable to read log %s", o->log);
	for (i = 0; i < n; i++)
		total += counts[i];
	printf("epochs=%zu writes=%" PRIu64 "%s\n", n, total, truncated ? " truncated=1" : "");
	for (i = 0; i < n; i++)
		printf("epoch=%zu writes=%" PRIu64 "\n", i, counts[i]);
	free(counts);
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int (*run)(struct opts *) = serve_main;

	if (argc > 1 && strcmp(argv[1], "replay") == 0)
		run = replay_main;
	else if (argc > 1 && strcmp(argv[1], "info") == 0)
		run = info_main;
	if (run != serve_main) {
		argv++;
		argc--;
	}
	parse(argc, argv, &o);
	if (!o.have_seed && o.spec.policy != CUT_NONE && run == serve_main) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		o.spec.seed = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^
			      ((uint64_t)getpid() << 32);
	}
	if (run == serve_main) {
		if (!o.socket || optind != argc - 1)
			die_msg(EXIT_USAGE, 0, "unable to serve: --socket SOCK and one IMAGE are "
				"needed; see --help");
		o.image = argv[optind];
	} else if (optind != argc) {
		die_msg(EXIT_USAGE, 0, "unable to read '%s': unexpected argument; see --help",
			argv[optind]);
	}
	return run(&o);
}
