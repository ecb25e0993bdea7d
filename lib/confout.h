/*
 * confout.h - the effective configuration as people, sh and jq read it:
 * the outputs of ciq-env. Passwords are never written: a secret setting
 * is ***, and a queue URL is shown redacted (url.h).
 *
 * Writers only write to the stream they are given; the caller checks it.
 */
#ifndef CIQ_CONFOUT_H
#define CIQ_CONFOUT_H

#include <stdio.h>

#include "conf.h"

/* One "NAME=value  # source" line per setting that has a value. */
void ciq_confout_plain(FILE *f, const struct ciq_conf *c);

/* "export NAME='value'" lines for eval; a value holding a password is
 * not exported (a comment line says so). */
void ciq_confout_export(FILE *f, const struct ciq_conf *c);

/* One JSON object: the fields of ciq-env(1), and "sources". */
void ciq_confout_json(FILE *f, const struct ciq_conf *c);

/*
 * Check setting k alone, so every problem gets its own message: missing
 * when required, invalid, or a queue URL that does not parse (shown
 * redacted). Returns 0, or -1 with err filled.
 */
int ciq_confout_check(const struct ciq_conf *c, enum ciq_setting_id k, char err[CIQ_ERRLEN]);

#endif
