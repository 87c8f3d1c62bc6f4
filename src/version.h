/* The version, from the one place it is written: lua/openai_admin/version.lua (the Makefile
 * passes it as -DOA_VERSION). A build outside the Makefile says so instead of guessing. */
#ifndef OA_VERSION_H
#define OA_VERSION_H
#ifndef OA_VERSION
#define OA_VERSION "unknown"
#endif
#endif
