// A broken invariant is a bug, never an input error: it stops the process
// with the condition and its place, in every build type, because a Raft node
// that keeps running past a broken rule can acknowledge lost writes.
#pragma once

#include <cstdio>
#include <cstdlib>

#ifndef MQ_INVARIANT
#define MQ_INVARIANT(cond)                                                        \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::fprintf(stderr, "invariant broken: %s at %s:%d\n", #cond, __FILE__,    \
                   __LINE__);                                                     \
      std::abort();                                                               \
    }                                                                             \
  } while (0)
#endif
