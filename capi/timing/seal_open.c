/* Times 1 KiB seal_to_user + receive through the C ABI: alice seals to bob, bob opens, the same
 * loop as ffi/examples/seal_open_native.rs (native Rust), ffi/python/timing.py and
 * ffi/kotlin/timing/Timing.kt. A measurement, not a test: it checks that every message opens
 * (exit 1 otherwise) but asserts nothing about speed.
 * Usage: seal_open ITERATIONS   (prints c_us_per_seal_open=...)
 * Build and run: bash capi/run_c_test.sh timing */
/* clock_gettime and CLOCK_MONOTONIC under -std=c11. */
#define _POSIX_C_SOURCE 199309L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "letterseal.h"

static const uint64_t NOW = 1800000000u;

static LsBytes str(const char *s) {
    LsBytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static void die(LsStatus status, const char *what) {
    LsBuffer message = {0};
    ls_last_error_message(&message);
    fprintf(stderr, "%s: %s (%.*s)\n", what, ls_status_name(status), (int)message.len,
            (const char *)message.ptr);
    ls_buffer_free(&message);
    exit(1);
}

#define OK(call, what)                          \
    do {                                        \
        LsStatus status_ = (call);              \
        if (status_ != LS_STATUS_OK) die(status_, what); \
    } while (0)

/* Every upload of `from` is received by `to` directly (no relay: the native loop has none). */
static void learn(LsAccount *from, LsAccount *to) {
    LsList *uploads = NULL;
    OK(ls_account_uploads(from, NOW, &uploads), "uploads");
    for (size_t i = 0; i < ls_list_len(uploads); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        OK(ls_list_get(uploads, i, &env, &to_user, &to_device), "list get");
        LsEvent *event = NULL;
        OK(ls_account_receive(to, NOW, env, &event), "receive upload");
        ls_event_free(event);
    }
    ls_list_free(uploads);
}

static uint8_t plaintext[1024];

static void round_trip(LsAccount *alice, LsAccount *bob) {
    LsList *out = NULL;
    LsBytes text = {plaintext, sizeof plaintext};
    OK(ls_account_seal_to_user(alice, NOW, str("bob"), 0, text, &out), "seal");
    for (size_t i = 0; i < ls_list_len(out); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        OK(ls_list_get(out, i, &env, &to_user, &to_device), "list get");
        LsEvent *event = NULL;
        OK(ls_account_receive(bob, NOW, env, &event), "receive");
        LsBytes opened, from_user;
        uint32_t from_device;
        OK(ls_event_message(event, &opened, &from_user, &from_device), "event message");
        if (opened.len != sizeof plaintext) {
            fprintf(stderr, "opened %zu bytes, sealed %zu\n", opened.len, sizeof plaintext);
            exit(1);
        }
        ls_event_free(event);
    }
    ls_list_free(out);
}

int main(int argc, char **argv) {
    long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 500;
    if (iterations <= 0) {
        fprintf(stderr, "usage: seal_open ITERATIONS\n");
        return 2;
    }
    memset(plaintext, 0x5a, sizeof plaintext);
    LsAccount *alice = NULL, *bob = NULL;
    OK(ls_account_create(str("alice"), 1, NOW, true, &alice), "alice");
    OK(ls_account_create(str("bob"), 1, NOW, true, &bob), "bob");
    learn(bob, alice);
    learn(alice, bob);
    /* Warm-up: the first message starts the session. */
    for (int i = 0; i < 10; i++) round_trip(alice, bob);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < iterations; i++) round_trip(alice, bob);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double micros = ((double)(end.tv_sec - start.tv_sec) * 1e6 +
                     (double)(end.tv_nsec - start.tv_nsec) / 1e3) /
                    (double)iterations;
    printf("c_us_per_seal_open=%.1f\n", micros);
    ls_account_free(alice);
    ls_account_free(bob);
    return 0;
}
