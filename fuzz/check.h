/* FUZZ_CHECK: a broken invariant abort()s, which libFuzzer reports as a crash (input saved). */
#ifndef OPENAI_ADMIN_FUZZ_CHECK_H
#define OPENAI_ADMIN_FUZZ_CHECK_H
#include <stdio.h>
#include <stdlib.h>

/* Fails the run with a message (a crash for libFuzzer, with the input saved). */
#define FUZZ_CHECK(cond, ...)                                                                      \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      fprintf(stderr, "fuzz invariant broken: " __VA_ARGS__);                                      \
      fputc('\n', stderr);                                                                         \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

#endif
