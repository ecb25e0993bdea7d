/*
 * shquote.h - words quoted for a shell command line that a user pastes
 * into bash.
 *
 * A word of letters, digits and _ . / : @ % + , - only is written bare.
 * Any other word of printable characters (ASCII or valid UTF-8 above the
 * C1 controls) is single-quoted, a ' written as '\''. A word holding a
 * control character or a byte that is not valid UTF-8 is written as
 * $'...' (bash, ksh, zsh) with those bytes, \, ' and ! as \xHH or \\, so
 * that the line is plain text and history expansion never applies. The
 * shell gives the command back each word's bytes exactly.
 */
#ifndef CIQ_SHQUOTE_H
#define CIQ_SHQUOTE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Write s[0..n) as one shell word. command: the word is in command
 * position, where a reserved word (if, {, !, ...) is quoted too.
 */
void ciq_shquote(FILE *f, const char *s, size_t n, int command);

#endif
