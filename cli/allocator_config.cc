// jemalloc's settings for the mq binary, read once at its first allocation
// (MALLOC_CONF in the environment still adds to them).
//
// background_thread: memory freed is returned to the system by a thread of
// jemalloc's own, not only when the program next allocates, so a node that
// goes quiet after a load gives back what the load left behind (measured:
// 275 MB resident with 1M keys, 231 MB with these settings, allocated 194 MB).
// dirty_decay_ms 2000: freed pages go back within seconds instead of ten.
// muzzy_decay_ms 0: lazily freed pages count as resident on Linux; purge them
// at once.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "background_thread:true,dirty_decay_ms:2000,muzzy_decay_ms:0";
}
