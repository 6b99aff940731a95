/*
 * ctgrind shim (Adam Langley's technique): valgrind memcheck's client requests
 * turn "is this byte initialised?" into "is this byte secret?".
 *
 *   ct_secret(p, n): mark n bytes at p UNDEFINED  -> memcheck reports any
 *                    branch, memory address or syscall argument that depends
 *                    on them ("Conditional jump or move depends on
 *                    uninitialised value(s)", "Use of uninitialised value").
 *   ct_public(p, n): mark them DEFINED again (declassify a public result).
 *
 * Outside valgrind the client requests are a few no-op instructions.
 * The functions live in their own translation unit and are never inlined into
 * Rust code, so the optimiser must assume they read and write *p.
 */
#include <stddef.h>
#include <valgrind/memcheck.h>

void ct_secret(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_UNDEFINED(p, n); }

void ct_public(void *p, size_t n) { (void)VALGRIND_MAKE_MEM_DEFINED(p, n); }

int ct_running_on_valgrind(void) { return (int)RUNNING_ON_VALGRIND; }
