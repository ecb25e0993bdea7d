/*
 * errlen.h - the size of the message buffers of the library.
 *
 * A function that can fail takes a char err[CIQ_ERRLEN] and fills it
 * with one line saying what failed and why, never with a password.
 */
#ifndef CIQ_ERRLEN_H
#define CIQ_ERRLEN_H

#define CIQ_ERRLEN 256

#endif
