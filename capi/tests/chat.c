/* The C ABI end to end: two users (alice with two devices), a relay, a 1:1
 * conversation with a reply, a group, a save/restore, the server's checks
 * and bad input. Exits non-zero on the first failed check.
 * Build: see capi/run_c_test.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "letterseal.h"

static int failures = 0;
#define CHECK(cond, what)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "FAILED: %s (line %d)\n", what, __LINE__);      \
            failures++;                                                     \
        }                                                                   \
    } while (0)

static const uint64_t NOW = 1800000000u;

static LsBytes str(const char *s) {
    LsBytes b = {(const uint8_t *)s, strlen(s)};
    return b;
}

static LsBytes buf(const LsBuffer *b) {
    LsBytes out = {b->ptr, b->len};
    return out;
}

static LsStatus expect_ok(LsStatus status, const char *what) {
    if (status != LS_STATUS_OK) {
        LsBuffer message = {0};
        ls_last_error_message(&message);
        fprintf(stderr, "FAILED: %s: %s (%.*s)\n", what, ls_status_name(status),
                (int)message.len, (const char *)message.ptr);
        ls_buffer_free(&message);
        failures++;
    }
    return status;
}

typedef struct {
    const char *user;
    uint32_t device;
    LsAccount *account;
    char last_text[256];
    int received;
} Device;

static Device devices[3];

static Device *find(LsBytes user, uint32_t device) {
    for (int i = 0; i < 3; i++) {
        if (strlen(devices[i].user) == user.len &&
            memcmp(devices[i].user, user.ptr, user.len) == 0 &&
            devices[i].device == device) {
            return &devices[i];
        }
    }
    return NULL;
}

/* Delivers what the relay fans out for one upload. */
static void deliver(LsRelay *relay, Device *from, LsBytes envelope) {
    LsList *out = NULL;
    if (expect_ok(ls_relay_upload(relay, NOW, str(from->user), from->device, envelope, &out),
                  "relay upload") != LS_STATUS_OK) {
        return;
    }
    for (size_t i = 0; i < ls_list_len(out); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        expect_ok(ls_list_get(out, i, &env, &to_user, &to_device), "list get");
        Device *to = find(to_user, to_device);
        CHECK(to != NULL, "delivery to a known device");
        if (to == NULL) continue;
        LsEvent *event = NULL;
        if (expect_ok(ls_account_receive(to->account, NOW, env, &event), "receive") != LS_STATUS_OK)
            continue;
        if (ls_event_kind(event) == LS_EVENT_KIND_MESSAGE ||
            ls_event_kind(event) == LS_EVENT_KIND_GROUP_MESSAGE) {
            LsBytes text, from_user;
            uint32_t from_device;
            expect_ok(ls_event_message(event, &text, &from_user, &from_device), "event message");
            snprintf(to->last_text, sizeof to->last_text, "%.*s", (int)text.len,
                     (const char *)text.ptr);
            to->received++;
        }
        ls_event_free(event);
    }
    ls_list_free(out);
}

static void upload_all(LsRelay *relay, Device *d) {
    LsList *uploads = NULL;
    expect_ok(ls_account_uploads(d->account, NOW, &uploads), "uploads");
    for (size_t i = 0; i < ls_list_len(uploads); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        ls_list_get(uploads, i, &env, &to_user, &to_device);
        deliver(relay, d, env);
    }
    ls_list_free(uploads);
}

static void fetch(LsRelay *relay, Device *d, const char *user) {
    LsList *list = NULL;
    expect_ok(ls_relay_fetch_user(relay, str(user), &list), "fetch");
    for (size_t i = 0; i < ls_list_len(list); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        ls_list_get(list, i, &env, &to_user, &to_device);
        LsEvent *event = NULL;
        expect_ok(ls_account_receive(d->account, NOW, env, &event), "receive fetched");
        ls_event_free(event);
    }
    ls_list_free(list);
}

static void say(LsRelay *relay, Device *from, const char *to, const char *text) {
    LsList *out = NULL;
    expect_ok(ls_account_seal_to_user(from->account, NOW, str(to), 0, str(text), &out), "seal");
    for (size_t i = 0; i < ls_list_len(out); i++) {
        LsBytes env, to_user;
        uint32_t to_device;
        ls_list_get(out, i, &env, &to_user, &to_device);
        deliver(relay, from, env);
    }
    ls_list_free(out);
}

int main(void) {
    LsRelay *relay = NULL;
    expect_ok(ls_relay_new(&relay), "relay");
    devices[0] = (Device){"alice", 1, NULL, "", 0};
    devices[1] = (Device){"alice", 2, NULL, "", 0};
    devices[2] = (Device){"bob", 1, NULL, "", 0};
    expect_ok(ls_account_create(str("alice"), 1, NOW, true, &devices[0].account), "alice");
    expect_ok(ls_account_create(str("alice"), 2, NOW, false, &devices[1].account), "laptop");
    expect_ok(ls_account_create(str("bob"), 1, NOW, true, &devices[2].account), "bob");

    /* alice's phone lists her laptop. */
    uint8_t laptop_key[32];
    expect_ok(ls_account_identity_key(devices[1].account, &laptop_key), "identity key");
    LsBuffer list = {0};
    expect_ok(ls_account_add_device(devices[0].account, 2, &laptop_key, &list), "add device");
    upload_all(relay, &devices[0]);
    deliver(relay, &devices[0], buf(&list));
    ls_buffer_free(&list);
    upload_all(relay, &devices[1]);
    upload_all(relay, &devices[2]);
    for (int i = 0; i < 3; i++) {
        fetch(relay, &devices[i], "alice");
        fetch(relay, &devices[i], "bob");
    }

    /* 1:1 with a reply. */
    say(relay, &devices[0], "bob", "hello bob");
    CHECK(strcmp(devices[2].last_text, "hello bob") == 0, "bob reads alice");
    CHECK(strcmp(devices[1].last_text, "hello bob") == 0, "alice's laptop gets the copy");
    say(relay, &devices[2], "alice", "hello alice");
    CHECK(strcmp(devices[0].last_text, "hello alice") == 0, "alice reads the reply");
    CHECK(strcmp(devices[1].last_text, "hello alice") == 0, "on both devices");

    /* A group. */
    LsBytes members[1] = {str("bob")};
    LsBuffer upload = {0};
    expect_ok(ls_account_create_group(devices[0].account, NOW, str("club"), members, 1, &upload),
              "create group");
    deliver(relay, &devices[0], buf(&upload));
    ls_buffer_free(&upload);
    LsBuffer sealed = {0};
    expect_ok(ls_account_seal_to_group(devices[2].account, NOW, str("club"), 0, str("hi club"),
                                       &sealed),
              "seal to group");
    deliver(relay, &devices[2], buf(&sealed));
    ls_buffer_free(&sealed);
    CHECK(strcmp(devices[0].last_text, "hi club") == 0, "group message at alice");
    CHECK(strcmp(devices[1].last_text, "hi club") == 0, "group message at alice's laptop");

    /* Save and restore bob; talk on. */
    uint8_t key[32];
    expect_ok(ls_storage_key_generate(&key), "storage key");
    LsBuffer blob = {0};
    uint64_t generation = 0;
    expect_ok(ls_account_export(devices[2].account, &key, &blob, &generation), "export");
    CHECK(generation == 1, "first generation");
    LsAccount *restored = NULL;
    CHECK(ls_account_import(&key, buf(&blob), generation + 1, &restored) == LS_STATUS_STATE_ROLLED_BACK,
          "rollback refused");
    uint8_t wrong[32] = {0};
    CHECK(ls_account_import(&wrong, buf(&blob), 0, &restored) == LS_STATUS_STATE_WRONG_KEY,
          "wrong key refused");
    expect_ok(ls_account_import(&key, buf(&blob), generation, &restored), "import");
    ls_buffer_free(&blob);
    ls_account_free(devices[2].account);
    devices[2].account = restored;
    say(relay, &devices[0], "bob", "after restore");
    CHECK(strcmp(devices[2].last_text, "after restore") == 0, "restored bob reads");

    /* The server's checks: a bundle from a device alice never listed. */
    LsAccount *stranger = NULL;
    expect_ok(ls_account_create(str("alice"), 9, NOW, false, &stranger), "stranger");
    LsList *uploads = NULL;
    expect_ok(ls_account_uploads(stranger, NOW, &uploads), "stranger uploads");
    LsBytes env, to_user;
    uint32_t to_device;
    ls_list_get(uploads, 0, &env, &to_user, &to_device);
    LsList *out = NULL;
    CHECK(ls_relay_upload(relay, NOW, str("alice"), 9, env, &out) == LS_STATUS_UPLOADER_NOT_LISTED,
          "unlisted device refused");
    ls_list_free(uploads);
    ls_account_free(stranger);

    /* Bad input: every refusal is a typed status, never a crash. */
    LsEvent *event = NULL;
    uint8_t garbage[64];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)(i * 37 + 11);
    LsBytes g = {garbage, sizeof garbage};
    CHECK(ls_account_receive(devices[0].account, NOW, g, &event) == LS_STATUS_ENVELOPE,
          "garbage is not an envelope");
    LsBytes empty = {NULL, 0};
    CHECK(ls_account_receive(devices[0].account, NOW, empty, &event) == LS_STATUS_ENVELOPE,
          "empty input");
    LsBytes null_with_len = {NULL, 5};
    CHECK(ls_account_receive(devices[0].account, NOW, null_with_len, &event) ==
              LS_STATUS_NULL_POINTER,
          "null with a length");
    CHECK(ls_account_receive(NULL, NOW, g, &event) == LS_STATUS_NULL_POINTER, "null account");
    CHECK(ls_account_create(empty, 1, NOW, true, &stranger) == LS_STATUS_INVALID_ARGUMENT,
          "empty user id");
    size_t big_len = 10u << 20;
    uint8_t *big = calloc(big_len, 1);
    big[0] = 1; big[1] = 1; big[2] = 0xff; big[3] = 0xff; big[4] = 0xff; big[5] = 0xf0;
    LsBytes huge = {big, big_len};
    CHECK(ls_account_receive(devices[0].account, NOW, huge, &event) != LS_STATUS_OK,
          "10 MiB of garbage refused");
    free(big);
    CHECK(strcmp(ls_status_name(LS_STATUS_BUNDLE_NEEDED), "BUNDLE_NEEDED") == 0, "status names");
    CHECK(strcmp(ls_status_name(12345), "UNKNOWN") == 0, "unknown status name");

    /* Still works after all that. */
    say(relay, &devices[2], "alice", "still fine");
    CHECK(strcmp(devices[0].last_text, "still fine") == 0, "alice reads after bad input");

    for (int i = 0; i < 3; i++) ls_account_free(devices[i].account);
    ls_relay_free(relay);
    if (failures == 0) printf("C ABI: all checks passed\n");
    return failures == 0 ? 0 : 1;
}
