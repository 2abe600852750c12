/* vipgen's version: the one place it is written (the Makefile, the manual page and the PDF Producer read it). */
#ifndef VIP_VERSION_H
#define VIP_VERSION_H

#define VIP_VERSION "0.9.0"

#endif
