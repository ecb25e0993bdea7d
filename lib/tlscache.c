/*
 * tlscache.c - TLS sessions saved in the private directory.
 *
 * A file is MAGIC followed by the session in OpenSSL's DER form.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "alloc.h"
#include "privdir.h"
#include "sha256.h"
#include "tlscache.h"

static const char MAGIC[] = "ciq-tls-session 1\n";
#define MAGIC_LEN (sizeof MAGIC - 1)
/* More than any session holds (its peer's certificate is most of it). */
#define FILE_MAX 65536

/* One field of the key, as "label\0value\0": no C string holds a NUL,
 * so no two keys hash the same bytes. */
static void
field(struct ciq_sha256 *h, const char *label, const char *value)
{
	ciq_sha256_update(h, label, strlen(label) + 1);
	ciq_sha256_update(h, value != NULL ? value : "", strlen(value != NULL ? value : "") + 1);
}

void
ciq_tlscache_name(char name[CIQ_TLSCACHE_NAMELEN], const char *host, int port,
    const char *sni, int verify, const char *ca_file)
{
	unsigned char md[CIQ_SHA256_LEN];
	struct ciq_sha256 h;
	char buf[96];

	ciq_sha256_init(&h);
	field(&h, "host", host);
	snprintf(buf, sizeof buf, "%d", port);
	field(&h, "port", buf);
	field(&h, "sni", sni != NULL ? sni : "(none)");
	field(&h, "verify", verify ? "1" : "0");
	if (verify) {
		struct stat st;

		/*
		 * The CA file by path and by identity: the same path in
		 * another directory, or the file replaced or edited, is
		 * another way of verifying.
		 */
		field(&h, "ca", ca_file);
		buf[0] = '\0';
		if (ca_file != NULL && *ca_file != '\0' && stat(ca_file, &st) == 0)
			snprintf(buf, sizeof buf, "%llu:%llu:%lld:%lld.%09ld",
			    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			    (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		field(&h, "ca-file", buf);
		/* The system store, as OpenSSL finds it. */
		field(&h, "SSL_CERT_FILE", getenv("SSL_CERT_FILE"));
		field(&h, "SSL_CERT_DIR", getenv("SSL_CERT_DIR"));
	}
	ciq_sha256_final(&h, md);
	memcpy(name, "tls-", 4);
	for (int i = 0; i < 16; i++)
		snprintf(name + 4 + 2 * i, 3, "%02x", md[i]);
}

/* The file's path in the private directory, in a new string; NULL when
 * the directory is not there (make 0) or cannot be trusted. */
static char *
file_path(const char *name, int make)
{
	char *dir = ciq_privdir(make, "directory", NULL), *path;

	if (dir == NULL)
		return NULL;
	path = ciq_malloc(strlen(dir) + strlen(name) + 2);
	sprintf(path, "%s/%s", dir, name);
	free(dir);
	return path;
}

/* The whole content of the trusted file path, in a new buffer; NULL when
 * there is none, or it is not a regular file of this user closed to
 * others, or it is longer than FILE_MAX. */
static unsigned char *
read_trusted(const char *path, size_t *len)
{
	unsigned char *buf = NULL;
	size_t n = 0;
	ssize_t r;
	int fd;

	/* O_NOFOLLOW: a symbolic link fails; O_NONBLOCK: a FIFO does not hang. */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) == -1)
		return NULL;
	if (!ciq_privdir_owned(fd))
		goto fail;
	buf = ciq_malloc(FILE_MAX + 1);
	while (n <= FILE_MAX && (r = read(fd, buf + n, FILE_MAX + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		n += (size_t)r;
	}
	if (n > FILE_MAX)
		goto fail;
	close(fd);
	*len = n;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

/* Whether sess may be offered by a connection that sends sni and
 * verifies (or not): resumable, not expired, for that name. */
static int
usable(SSL_SESSION *sess, const char *sni, int verify)
{
	const char *name = SSL_SESSION_get0_hostname(sess);
	long now = (long)time(NULL), t = SSL_SESSION_get_time(sess), age = now - t;
	long hint = (long)SSL_SESSION_get_ticket_lifetime_hint(sess);
	int version = SSL_SESSION_get_protocol_version(sess);

	if (!SSL_SESSION_is_resumable(sess) || version < TLS1_2_VERSION)
		return 0;
	/* A start in the future: the clock went back; or too old. */
	if (t > now || age >= SSL_SESSION_get_timeout(sess))
		return 0;
	/*
	 * A ticket lives as long as the server said (OpenSSL would still
	 * offer it a second longer, for the server to refuse). In TLS 1.3
	 * a lifetime of 0 means none; in TLS 1.2, no opinion.
	 */
	if (SSL_SESSION_has_ticket(sess) && (hint > 0 || version >= TLS1_3_VERSION) && age >= hint)
		return 0;
	/* Belt and braces to the key: OpenSSL notes the name when the
	 * server acknowledged it. */
	if (name != NULL && (sni == NULL || strcmp(name, sni) != 0))
		return 0;
	/* A verified session was made with the server's certificate. */
	return !verify || SSL_SESSION_get0_peer(sess) != NULL;
}

SSL_SESSION *
ciq_tlscache_load(const char *name, const char *sni, int verify)
{
	char *path = file_path(name, 0);
	SSL_SESSION *sess = NULL;
	const unsigned char *p;
	unsigned char *buf;
	size_t len;

	if (path == NULL)
		return NULL;
	buf = read_trusted(path, &len);
	free(path);
	if (buf == NULL)
		return NULL;
	if (len > MAGIC_LEN && memcmp(buf, MAGIC, MAGIC_LEN) == 0) {
		ERR_set_mark();
		p = buf + MAGIC_LEN;
		sess = d2i_SSL_SESSION(NULL, &p, (long)(len - MAGIC_LEN));
		/* Trailing bytes: not a file this module wrote. */
		if (sess != NULL && (p != buf + len || !usable(sess, sni, verify))) {
			SSL_SESSION_free(sess);
			sess = NULL;
		}
		ERR_pop_to_mark();
	}
	free(buf);
	return sess;
}

/* Write all n bytes to fd. 0 or -1. */
static int
write_all(int fd, const unsigned char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Remove what a tool killed while it saved left of path: its temporary
 * files ("path.XXXXXX"), once over a minute old (a tool saving now is
 * done with its own within milliseconds).
 */
static void
sweep(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash + 1;
	size_t dirlen = (size_t)(slash - path), baselen = strlen(base);
	char *dir = ciq_malloc(dirlen + 1), *old;
	time_t now = time(NULL);
	struct dirent *e;
	struct stat st;
	DIR *d;

	memcpy(dir, path, dirlen);
	dir[dirlen] = '\0';
	if ((d = opendir(dir)) != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, base, baselen) != 0 || e->d_name[baselen] != '.' ||
			    strlen(e->d_name) != baselen + 7)
				continue;
			old = ciq_malloc(dirlen + strlen(e->d_name) + 2);
			sprintf(old, "%s/%s", dir, e->d_name);
			if (lstat(old, &st) == 0 && S_ISREG(st.st_mode) && st.st_mtime < now - 60)
				unlink(old);
			free(old);
		}
		closedir(d);
	}
	free(dir);
}

void
ciq_tlscache_save(const char *name, SSL_SESSION *sess)
{
	unsigned char *buf = NULL, *p;
	char *path = NULL, *tmp = NULL;
	int len, fd;

	ERR_set_mark();
	if (!SSL_SESSION_is_resumable(sess) || (len = i2d_SSL_SESSION(sess, NULL)) <= 0 ||
	    (size_t)len > FILE_MAX - MAGIC_LEN || (path = file_path(name, 1)) == NULL)
		goto out;
	buf = ciq_malloc(MAGIC_LEN + (size_t)len);
	memcpy(buf, MAGIC, MAGIC_LEN);
	p = buf + MAGIC_LEN;
	if (i2d_SSL_SESSION(sess, &p) != len)
		goto out;
	/*
	 * A temporary file of its own (mkstemp: new, mode 0600), renamed
	 * over the old one: a reader, or another tool saving at the same
	 * time, sees one whole file or the other, never a part.
	 */
	sweep(path);
	tmp = ciq_malloc(strlen(path) + 8);
	sprintf(tmp, "%s.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		goto out;
	if (write_all(fd, buf, MAGIC_LEN + (size_t)len) == -1) {
		close(fd);
		unlink(tmp);
	} else if (close(fd) == -1 || rename(tmp, path) == -1) {
		unlink(tmp);
	}
out:
	ERR_pop_to_mark();
	free(tmp);
	free(path);
	free(buf);
}
