/*
 * nsswitch.h - which sources the system looks host names up in.
 *
 * glibc resolves host names through the sources /etc/nsswitch.conf names
 * for "hosts". "files" and "dns" are built into libc, the static one too;
 * any other source (mdns4_minimal, resolve, myhostname, ...) is a shared
 * library that a static program would have to dlopen() against a libc it
 * was not built with. The static tools ask here before they look a name
 * up, and leave such names to their dynamic build (cmd/tool.h).
 */
#ifndef CIQ_NSSWITCH_H
#define CIQ_NSSWITCH_H

/*
 * 1 when every "hosts" source in the file at path is files or dns (also
 * when the file or its "hosts" line is missing: glibc's default is dns
 * and files), else 0.
 */
int ciq_nsswitch_builtin_hosts(const char *path);

#endif
