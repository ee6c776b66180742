/*
 * busybox-nonet.c: linked into the rescue busybox (initramfs/busybox.sh) in place of musl's name
 * resolver. The initramfs has no network (no network drivers, no ip or ifconfig): the only caller,
 * mount's NFS path (host:/export, which busybox always builds), could never reach a server, but
 * it pulled in getaddrinfo, getnameinfo and the DNS client behind them: 8.6 KB of the initramfs
 * after xz. Here every name is unknown, so `mount host:/x /mnt` stops at once with busybox's
 * "bad address 'host'".
 */
#include <netdb.h>

int getaddrinfo(const char *restrict host, const char *restrict serv, const struct addrinfo *restrict hint,
		struct addrinfo **restrict res)
{
	return EAI_NONAME;
}

int getnameinfo(const struct sockaddr *restrict sa, socklen_t sl, char *restrict host, socklen_t hostlen,
		char *restrict serv, socklen_t servlen, int flags)
{
	return EAI_NONAME;
}
