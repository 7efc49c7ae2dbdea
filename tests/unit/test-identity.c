/* test-identity.c -- identity files: parse, load, generate, save (SPEC 4). */
#include "config.h"

#include "identity.h"
#include "secrets.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nettle/base64.h>

/* RFC 8032, section 7.1, test 1: seed || public key, and the public key. */
#define PRIV1 "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg=="
#define PUB1 "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
/* RFC 8032, test 2: another public key. */
#define PUB2 "PUAXw+hDiVqStwqnTRt+vJyYLM8uxJaMwM1V8Sr0Zgw="

static const uint8_t seed1[32] = {
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
};
static const uint8_t pub1[32] = {
    0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
    0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
};
static const uint8_t pub2[32] = {
    0x3d, 0x40, 0x17, 0xc3, 0xe8, 0x43, 0x89, 0x5a, 0x92, 0xb7, 0x0a, 0xa7, 0x4d, 0x1b, 0x7e, 0xbc,
    0x9c, 0x98, 0x2c, 0xcf, 0x2e, 0xc4, 0x96, 0x8c, 0xc0, 0xcd, 0x55, 0xf1, 0x2a, 0xf4, 0x66, 0x0c,
};

static char dir[1024];  /* fresh per run, removed at the end */
static char path[1400]; /* the file under test: DIR/NAME */
static char err[PT_ERRMSG_MAX];

/* ---- Fixtures ---------------------------------------------------------- */

static const char *in_dir(const char *name)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* Write len bytes to DIR/name with the given mode; returns the path. */
static const char *write_file(const char *name, const char *text, size_t len, mode_t mode)
{
    const char *p = in_dir(name);
    int fd;

    (void)unlink(p);
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len || fchmod(fd, mode) != 0 || close(fd) != 0) {
        printf("# cannot write %s: %s\n", p, strerror(errno));
        exit(99);
    }
    return p;
}

/* Write text to DIR/id.json (mode 0600), load it into *id. */
static int load_text(const char *text, pt_identity *id)
{
    const char *p = write_file("id.json", text, strlen(text), 0600);
    err[0] = '\0';
    return ptu_identity_load(p, id, err, sizeof err);
}

static int load_keys(const char *priv, const char *pub, pt_identity *id)
{
    char text[1024];
    snprintf(text, sizeof text, "{\"private_key\":\"%s\",\"public_key\":\"%s\"}\n", priv, pub);
    return load_text(text, id);
}

static void b64(const uint8_t *p, size_t n, char *out)
{
    base64_encode_raw(out, n, p);
    out[BASE64_ENCODE_RAW_LENGTH(n)] = '\0';
}

static void read_back(const char *p, char *buf, size_t cap)
{
    FILE *f = fopen(p, "rb");
    size_t n = f ? fread(buf, 1, cap - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Empty the test directory (files, links, FIFOs and empty directories). */
static void clear_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (unlink(in_dir(e->d_name)) != 0)
            (void)rmdir(path);
    }
    if (d)
        closedir(d);
}

/* ptu_identity_generate, registering the key for tests/secrets.sh. */
static int generate(pt_identity *id)
{
    int rc = ptu_identity_generate(id, err, sizeof err);
    if (rc == PT_OK)
        secrets_register_key("a generated key", id);
    return rc;
}

static pt_identity blank(void)
{
    pt_identity id;
    memset(&id, 0, sizeof id);
    id.node_id = 4242;
    return id;
}

/* ---- parse ------------------------------------------------------------- */

TEST(parse_accepts_rfc8032_key)
{
    pt_identity id = blank();
    const char *t = "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"}";
    CHECK_EQ_INT(ptu_identity_parse(t, strlen(t), &id, err, sizeof err), PT_OK);
    CHECK_EQ_INT(id.has_key, 1);
    CHECK(memcmp(id.private_key, seed1, 32) == 0);
    CHECK(memcmp(id.private_key + 32, pub1, 32) == 0);
    CHECK(memcmp(id.public_key, pub1, 32) == 0);
    CHECK_EQ_INT(id.node_id, 4242); /* untouched */
}

TEST(parse_ignores_other_members_and_whitespace)
{
    pt_identity id = blank();
    const char *t = "\n { \"node_id\" : 7, \"public_key\" : \"" PUB1 "\",\n"
                    "   \"private_key\" : \"" PRIV1 "\", \"extra\": [1, {\"x\": null}] }\n";
    CHECK_EQ_INT(ptu_identity_parse(t, strlen(t), &id, err, sizeof err), PT_OK);
    CHECK(memcmp(id.public_key, pub1, 32) == 0);
    CHECK_EQ_INT(id.node_id, 4242);
}

TEST(parse_failure_leaves_identity_untouched)
{
    pt_identity id = blank(), before;
    const char *t = "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB2 "\"}";
    memset(id.public_key, 0xAB, sizeof id.public_key);
    before = id;
    CHECK_EQ_INT(ptu_identity_parse(t, strlen(t), &id, err, sizeof err), PT_EINVAL);
    CHECK(memcmp(&id, &before, sizeof id) == 0);
}

TEST(parse_messages_start_with_identity)
{
    pt_identity id = blank();
    CHECK_EQ_INT(ptu_identity_parse("{}", 2, &id, err, sizeof err), PT_EINVAL);
    CHECK_STR_EQ(err, "identity: missing \"private_key\"");
    CHECK_EQ_INT(ptu_identity_parse("{}", 2, NULL, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(ptu_identity_parse("{}", 2, &id, NULL, 0), PT_EINVAL);
}

/* ---- generate and public_b64 ------------------------------------------- */

TEST(public_b64_is_standard_base64)
{
    pt_identity id = blank();
    char out[45];
    memcpy(id.public_key, pub1, 32);
    memset(out, 'x', sizeof out);
    ptu_identity_public_b64(&id, out);
    CHECK_STR_EQ(out, PUB1);
}

TEST(generate_makes_a_consistent_key)
{
    pt_identity id = blank();
    char priv[89], pub[45], text[256];
    pt_identity back = blank();

    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(id.has_key, 1);
    CHECK_EQ_INT(id.node_id, 4242);
    CHECK(memcmp(id.private_key + 32, id.public_key, 32) == 0);
    /* parse re-derives the public key from the seed and must agree. */
    b64(id.private_key, 64, priv);
    ptu_identity_public_b64(&id, pub);
    snprintf(text, sizeof text, "{\"private_key\":\"%s\",\"public_key\":\"%s\"}", priv, pub);
    CHECK_EQ_INT(ptu_identity_parse(text, strlen(text), &back, err, sizeof err), PT_OK);
    CHECK(memcmp(&back, &id, sizeof id) == 0);
}

TEST(generate_makes_different_keys_each_time)
{
    pt_identity a = blank(), b = blank();
    CHECK_EQ_INT(generate(&a), PT_OK);
    CHECK_EQ_INT(generate(&b), PT_OK);
    CHECK(memcmp(a.private_key, b.private_key, 32) != 0);
}

/* ---- save -------------------------------------------------------------- */

TEST(save_then_load_round_trips)
{
    pt_identity id = blank(), back = blank();
    const char *p = in_dir("identity.json");
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(p, &id, 0, err, sizeof err), PT_OK);
    CHECK_EQ_INT(ptu_identity_load(p, &back, err, sizeof err), PT_OK);
    CHECK(memcmp(back.private_key, id.private_key, 64) == 0);
    CHECK(memcmp(back.public_key, id.public_key, 32) == 0);
    CHECK_EQ_INT(back.has_key, 1);
    clear_dir();
}

TEST(saved_file_has_mode_0600_whatever_the_umask)
{
    static const mode_t masks[] = { 0, 022, 077 };
    pt_identity id = blank();
    struct stat st;
    CHECK_EQ_INT(generate(&id), PT_OK);
    for (size_t i = 0; i < sizeof masks / sizeof masks[0]; i++) {
        mode_t old = umask(masks[i]);
        const char *p = in_dir("identity.json");
        CHECK_EQ_INT(ptu_identity_save(p, &id, 1, err, sizeof err), PT_OK);
        umask(old);
        CHECK_EQ_INT(stat(p, &st), 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK_EQ_INT(st.st_mode & 07777, 0600);
    }
    clear_dir();
}

TEST(saved_file_is_the_documented_json)
{
    pt_identity id = blank();
    char buf[512];
    const char *p = in_dir("identity.json");
    memcpy(id.private_key, seed1, 32);
    memcpy(id.private_key + 32, pub1, 32);
    memcpy(id.public_key, pub1, 32);
    id.has_key = 1;
    CHECK_EQ_INT(ptu_identity_save(p, &id, 0, err, sizeof err), PT_OK);
    read_back(p, buf, sizeof buf);
    CHECK_STR_EQ(buf, "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"}\n");
    clear_dir();
}

TEST(save_leaves_no_temporary_file)
{
    pt_identity id = blank();
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir("identity.json"), &id, 0, err, sizeof err), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir("identity.json"), &id, 1, err, sizeof err), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir("identity.json"), &id, 0, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(count_entries(), 1);
    clear_dir();
}

TEST(save_refuses_to_overwrite_without_force)
{
    pt_identity id = blank();
    char buf[64], want[4096];
    const char *p = write_file("identity.json", "keep me", 7, 0600);
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(p, &id, 0, err, sizeof err), PT_EINVAL);
    snprintf(want, sizeof want,
             "identity file %s already exists; refusing to overwrite it (use -force)", p);
    CHECK_STR_EQ(err, want);
    read_back(p, buf, sizeof buf);
    CHECK_STR_EQ(buf, "keep me");
    CHECK_EQ_INT(count_entries(), 1);
    clear_dir();
}

TEST(save_refuses_a_dangling_symlink_without_force)
{
    pt_identity id = blank();
    const char *p = in_dir("identity.json");
    CHECK_EQ_INT(symlink("nowhere", p), 0);
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(p, &id, 0, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "already exists");
    CHECK_EQ_INT(access(in_dir("nowhere"), F_OK), -1);
    clear_dir();
}

TEST(save_overwrites_with_force)
{
    pt_identity id = blank(), back = blank();
    struct stat st;
    const char *p = write_file("identity.json", "old", 3, 0644);
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(p, &id, 1, err, sizeof err), PT_OK);
    CHECK_EQ_INT(stat(p, &st), 0);
    CHECK_EQ_INT(st.st_mode & 07777, 0600);
    CHECK_EQ_INT(ptu_identity_load(p, &back, err, sizeof err), PT_OK);
    CHECK(memcmp(back.private_key, id.private_key, 64) == 0);
    CHECK_EQ_INT(count_entries(), 1);
    clear_dir();
}

TEST(save_into_a_missing_directory_fails)
{
    pt_identity id = blank();
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir("no/such/dir/id.json"), &id, 1, err, sizeof err),
                 PT_EIO);
    CHECK_STR_CONTAINS(err, "cannot create a temporary file: No such file or directory");
    CHECK_EQ_INT(count_entries(), 0);
}

TEST(save_over_a_directory_with_force_fails_and_cleans_up)
{
    pt_identity id = blank();
    const char *p = in_dir("adir");
    CHECK_EQ_INT(mkdir(p, 0700), 0);
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir("adir"), &id, 1, err, sizeof err), PT_EIO);
    CHECK_STR_CONTAINS(err, "cannot move the new file into place");
    CHECK_EQ_INT(count_entries(), 1); /* only the directory: temp file removed */
    clear_dir();
}

TEST(save_refuses_a_missing_or_inconsistent_key)
{
    pt_identity id = blank();
    CHECK_EQ_INT(ptu_identity_save(in_dir("id.json"), &id, 0, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "no key to save");
    CHECK_EQ_INT(ptu_identity_save(in_dir("id.json"), NULL, 0, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(generate(&id), PT_OK);
    id.public_key[0] ^= 1;
    CHECK_EQ_INT(ptu_identity_save(in_dir("id.json"), &id, 0, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "does not match its seed");
    CHECK_EQ_INT(count_entries(), 0);
}

TEST(save_refuses_a_path_without_a_file_name)
{
    pt_identity id = blank();
    CHECK_EQ_INT(generate(&id), PT_OK);
    CHECK_EQ_INT(ptu_identity_save(in_dir(""), &id, 1, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "not a file name");
    CHECK_EQ_INT(ptu_identity_save(in_dir(".."), &id, 1, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(ptu_identity_save("", &id, 1, err, sizeof err), PT_EINVAL);
    CHECK_EQ_INT(count_entries(), 0);
}

/* ---- load refusals ----------------------------------------------------- */

TEST(load_reports_a_missing_file)
{
    pt_identity id = blank();
    char want[4096];
    const char *p = in_dir("absent.json");
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_EINVAL);
    snprintf(want, sizeof want, "identity file %s: No such file or directory", p);
    CHECK_STR_EQ(err, want);
    CHECK_EQ_INT(id.has_key, 0);
}

static void check_mode_refused(mode_t mode, const char *mode_text, const char *how)
{
    pt_identity id = blank();
    char want[4096];
    const char *p = write_file("id.json", "{}", 2, mode);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_EINVAL);
    snprintf(want, sizeof want, "identity file %s is %s by group or others (mode %s); "
             "fix with: chmod 600 %s", p, how, mode_text, p);
    CHECK_STR_EQ(err, want);
    CHECK_STR_CONTAINS(err, "chmod 600");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_group_readable_file)
{
    check_mode_refused(0640, "0640", "readable");
}

TEST(load_refuses_a_world_readable_file)
{
    check_mode_refused(0604, "0604", "readable");
}

TEST(load_refuses_a_group_writable_file)
{
    check_mode_refused(0620, "0620", "accessible");
}

TEST(load_accepts_mode_0400)
{
    pt_identity id = blank();
    const char *t = "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"}";
    const char *p = write_file("id.json", t, strlen(t), 0400);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_OK);
    clear_dir();
}

TEST(load_refuses_a_directory)
{
    pt_identity id = blank();
    char want[4096];
    const char *p = in_dir("adir");
    CHECK_EQ_INT(mkdir(p, 0700), 0);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_EINVAL);
    snprintf(want, sizeof want, "identity file %s is not a regular file", p);
    CHECK_STR_EQ(err, want);
    clear_dir();
}

TEST(load_refuses_a_fifo_without_blocking)
{
    pt_identity id = blank();
    const char *p = in_dir("fifo");
    CHECK_EQ_INT(mkfifo(p, 0600), 0);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "is not a regular file");
    clear_dir();
}

/* A valid identity padded with spaces to exactly size bytes. */
static char *padded_identity(size_t size)
{
    const char *t = "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"}";
    char *s = malloc(size);
    if (!s)
        abort();
    memset(s, ' ', size);
    memcpy(s, t, strlen(t));
    return s;
}

TEST(load_accepts_a_file_of_exactly_64_kib)
{
    pt_identity id = blank();
    char *s = padded_identity(PTU_IDENTITY_MAX_FILE);
    const char *p = write_file("id.json", s, PTU_IDENTITY_MAX_FILE, 0600);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_OK);
    free(s);
    clear_dir();
}

TEST(load_refuses_a_file_over_64_kib)
{
    pt_identity id = blank();
    char *s = padded_identity(PTU_IDENTITY_MAX_FILE + 1);
    const char *p = write_file("id.json", s, PTU_IDENTITY_MAX_FILE + 1, 0600);
    CHECK_EQ_INT(ptu_identity_load(p, &id, err, sizeof err), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "is too large (65537 bytes; the limit is 65536)");
    CHECK_EQ_INT(id.has_key, 0);
    free(s);
    clear_dir();
}

TEST(load_refuses_text_that_is_not_json)
{
    pt_identity id = blank();
    CHECK_EQ_INT(load_text("private_key = " PRIV1 "\n", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, ": not a valid JSON object (json: ");
    CHECK_EQ_INT(load_text("", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "not a valid JSON object");
    CHECK_EQ_INT(load_text("[\"" PRIV1 "\"]", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "not a valid JSON object");
    CHECK_EQ_INT(load_text("{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"", &id),
                 PT_EINVAL);
    CHECK_STR_CONTAINS(err, "not a valid JSON object");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_missing_private_key)
{
    pt_identity id = blank();
    char want[4096];
    CHECK_EQ_INT(load_text("{\"public_key\":\"" PUB1 "\"}", &id), PT_EINVAL);
    snprintf(want, sizeof want, "identity file %s: missing \"private_key\"", path);
    CHECK_STR_EQ(err, want);
    clear_dir();
}

TEST(load_refuses_a_missing_public_key)
{
    pt_identity id = blank();
    CHECK_EQ_INT(load_text("{\"private_key\":\"" PRIV1 "\"}", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "id.json: missing \"public_key\"");
    clear_dir();
}

TEST(load_refuses_keys_that_are_not_strings)
{
    pt_identity id = blank();
    CHECK_EQ_INT(load_text("{\"private_key\":null,\"public_key\":\"" PUB1 "\"}", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"private_key\" is not a string");
    CHECK_EQ_INT(load_text("{\"private_key\":\"" PRIV1 "\",\"public_key\":[\"" PUB1 "\"]}", &id),
                 PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"public_key\" is not a string");
    clear_dir();
}

TEST(load_refuses_bad_base64)
{
    static const char *const bad_priv[] = {
        "!WGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg=",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg===",
        "nWGxne/9WmC6hEr0 kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==",
        "nWGxne/9WmC6hEr0\\nkuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg==",
        "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL-tPJZAc6DuFy89qmIyWvAhpo9wdRGg==",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGh==",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wd=RGg=",
        "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg\\u003d\\u003d=",
    };
    pt_identity id = blank();
    for (size_t i = 0; i < sizeof bad_priv / sizeof bad_priv[0]; i++) {
        CHECK_EQ_INT(load_keys(bad_priv[i], PUB1, &id), PT_EINVAL);
        CHECK_STR_CONTAINS(err, "\"private_key\" is not valid standard base64");
    }
    CHECK_EQ_INT(load_keys(PRIV1, "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"public_key\" is not valid standard base64");
    CHECK_EQ_INT(load_keys(PRIV1, "", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"public_key\" is 0 bytes; it must be 32");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_accepts_base64_written_with_json_escapes)
{
    pt_identity id = blank();
    /* "\/" and "\u003d" are just '/' and '=' to a JSON reader. */
    CHECK_EQ_INT(load_keys("nWGxne\\/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2DXWpgBgrEKt9VL/tPJZAc6"
                           "DuFy89qmIyWvAhpo9wdRGg\\u003d=",
                           PUB1, &id),
                 PT_OK);
    clear_dir();
}

TEST(load_refuses_a_63_byte_private_key)
{
    pt_identity id = blank();
    uint8_t key[65];
    char text[100];
    memcpy(key, seed1, 32);
    memcpy(key + 32, pub1, 32);
    key[64] = 0;
    b64(key, 63, text);
    CHECK_EQ_INT(load_keys(text, PUB1, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"private_key\" is 63 bytes; it must be 64");
    b64(key, 65, text);
    CHECK_EQ_INT(load_keys(text, PUB1, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"private_key\" is 65 bytes; it must be 64");
    b64(seed1, 32, text); /* a bare seed, as some tools store it */
    CHECK_EQ_INT(load_keys(text, PUB1, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"private_key\" is 32 bytes; it must be 64");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_31_byte_public_key)
{
    pt_identity id = blank();
    char text[64];
    b64(pub1, 31, text);
    CHECK_EQ_INT(load_keys(PRIV1, text, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"public_key\" is 31 bytes; it must be 32");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_public_key_not_matching_the_seed)
{
    pt_identity id = blank();
    CHECK_EQ_INT(load_keys(PRIV1, PUB2, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "\"public_key\" does not match the key derived from \"private_key\"");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_private_key_whose_public_half_does_not_match_its_seed)
{
    pt_identity id = blank();
    uint8_t key[64];
    char text[100];
    memcpy(key, seed1, 32);
    memcpy(key + 32, pub2, 32);
    b64(key, 64, text);
    /* Even when public_key agrees with the (wrong) half. */
    CHECK_EQ_INT(load_keys(text, PUB2, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "the second half of \"private_key\" is not the public key of its seed");
    CHECK_EQ_INT(load_keys(text, PUB1, &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "the second half of \"private_key\"");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_keeps_node_id)
{
    pt_identity id = blank();
    CHECK_EQ_INT(load_keys(PRIV1, PUB1, &id), PT_OK);
    CHECK_EQ_INT(id.node_id, 4242);
    CHECK(memcmp(id.public_key, pub1, 32) == 0);
    clear_dir();
}

/* ---- load: owners, symbolic links, and the window before the open ------ */

#define OTHER_UID 65534 /* nobody */
#define KEY_JSON "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"}\n"

/* DIR/name as a new string (in_dir's buffer is reused). */
static char *dir_path(const char *name)
{
    char *p = strdup(in_dir(name));
    if (!p)
        abort();
    return p;
}

/* A valid identity file DIR/name with the given mode. */
static void write_key(const char *name, mode_t mode)
{
    write_file(name, KEY_JSON, strlen(KEY_JSON), mode);
}

/* A symbolic link DIR/name -> target, owned by uid (as root) or by us (uid
 * -1).  Returns 0 or -1 with a diagnostic. */
static int make_link(const char *name, const char *target, long uid)
{
    const char *p = in_dir(name);
    if (symlink(target, p) != 0 || (uid >= 0 && lchown(p, (uid_t)uid, (gid_t)uid) != 0)) {
        printf("# symlink %s -> %s: %s\n", p, target, strerror(errno));
        return -1;
    }
    return 0;
}

/* Load DIR/name; the code, with the message in err. */
static int load_name(const char *name, pt_identity *id)
{
    char *p = dir_path(name);
    int rc;
    err[0] = '\0';
    rc = ptu_identity_load(p, id, err, sizeof err);
    free(p);
    return rc;
}

TEST(load_follows_a_symlink_owned_by_us)
{
    pt_identity id = blank();
    write_key("real.json", 0600);
    CHECK_EQ_INT(make_link("id.json", "real.json", -1), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_OK);
    CHECK(memcmp(id.public_key, pub1, 32) == 0);
    clear_dir();
}

TEST(load_resolves_each_link_relative_to_its_own_directory)
{
    pt_identity id = blank();
    char *sub = dir_path("sub");
    CHECK_EQ_INT(mkdir(sub, 0700), 0);
    write_key("sub/real.json", 0600);
    /* id.json -> sub/l2 -> real.json, which is sub/real.json, not DIR/real.json */
    CHECK_EQ_INT(make_link("sub/l2", "real.json", -1), 0);
    CHECK_EQ_INT(make_link("id.json", "sub/l2", -1), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_OK);
    if (err[0])
        printf("# %s\n", err);
    /* An absolute target too. */
    char *abs_target = dir_path("sub/real.json");
    CHECK_EQ_INT(make_link("abs.json", abs_target, -1), 0);
    CHECK_EQ_INT(load_name("abs.json", &id), PT_OK);
    free(abs_target);
    (void)unlink(in_dir("sub/l2"));
    (void)unlink(in_dir("sub/real.json"));
    clear_dir();
    free(sub);
}

TEST(load_names_a_dangling_symlink_as_missing)
{
    pt_identity id = blank();
    char want[4096];
    char *p = dir_path("id.json");
    CHECK_EQ_INT(make_link("id.json", "nowhere.json", -1), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    snprintf(want, sizeof want, "identity file %s: No such file or directory", p);
    CHECK_STR_EQ(err, want);
    free(p);
    clear_dir();
}

TEST(load_refuses_a_symlink_loop)
{
    pt_identity id = blank();
    CHECK_EQ_INT(make_link("a.json", "b.json", -1), 0);
    CHECK_EQ_INT(make_link("b.json", "a.json", -1), 0);
    CHECK_EQ_INT(load_name("a.json", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "a.json: Too many levels of symbolic links");
    clear_dir();
}

TEST(load_refuses_a_symlink_owned_by_another_user)
{
    pt_identity id = blank();
    char want[4096];
    char *p = dir_path("id.json");
    write_key("real.json", 0600);
    CHECK_EQ_INT(make_link("id.json", "real.json", OTHER_UID), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    snprintf(want, sizeof want,
             "identity file %s is a symbolic link owned by uid %d, neither you (uid %u) nor "
             "root; refusing to follow it", p, OTHER_UID, (unsigned)geteuid());
    CHECK_STR_EQ(err, want);
    CHECK_EQ_INT(id.has_key, 0);
    free(p);
    clear_dir();
}

TEST(load_refuses_a_foreign_link_further_down_a_chain)
{
    pt_identity id = blank();
    write_key("real.json", 0600);
    CHECK_EQ_INT(make_link("l2", "real.json", OTHER_UID), 0);
    CHECK_EQ_INT(make_link("id.json", "l2", -1), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "id.json leads through the symbolic link \"l2\", owned by uid 65534, "
                            "neither you");
    CHECK_STR_CONTAINS(err, "refusing to follow it");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

TEST(load_refuses_a_file_owned_by_another_user)
{
    pt_identity id = blank();
    write_key("id.json", 0600);
    CHECK_EQ_INT(chown(in_dir("id.json"), OTHER_UID, OTHER_UID), 0);
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "id.json is owned by uid 65534, neither you (uid 0) nor root; "
                            "refusing to use it");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

/* Run as root with the effective uid of nobody: root's links are followed,
 * another user's are not, and nobody's own file is accepted. */
TEST(load_follows_root_owned_links_for_other_users)
{
    pt_identity id = blank();
    write_key("real.json", 0600);
    CHECK_EQ_INT(chown(in_dir("real.json"), OTHER_UID, OTHER_UID), 0);
    CHECK_EQ_INT(make_link("root.json", "real.json", 0), 0);
    CHECK_EQ_INT(make_link("other.json", "real.json", OTHER_UID - 1), 0);
    CHECK_EQ_INT(seteuid(OTHER_UID), 0);
    CHECK_EQ_INT(load_name("root.json", &id), PT_OK);
    if (err[0])
        printf("# %s\n", err);
    CHECK_EQ_INT(load_name("real.json", &id), PT_OK);
    CHECK_EQ_INT(load_name("other.json", &id), PT_EINVAL);
    CHECK_STR_CONTAINS(err, "is a symbolic link owned by uid 65533, neither you (uid 65534) "
                            "nor root");
    CHECK_EQ_INT(seteuid(0), 0);
    clear_dir();
}

/* The hook in the window before each open: on hop `at`, rename
 * DIR/swap_from over DIR/swap_to, once. */
static int swap_at = -1, swap_done, hook_calls;
static char swap_from[1400], swap_to[1400];

static void swap_hook(int hop, const char *name)
{
    (void)name;
    hook_calls++;
    if (hop == swap_at && !swap_done) {
        swap_done = 1;
        if (rename(swap_from, swap_to) != 0)
            printf("# rename %s -> %s: %s\n", swap_from, swap_to, strerror(errno));
    }
}

static void arm_swap(int hop, const char *from, const char *to)
{
    snprintf(swap_from, sizeof swap_from, "%s/%s", dir, from);
    snprintf(swap_to, sizeof swap_to, "%s/%s", dir, to);
    swap_at = hop;
    swap_done = hook_calls = 0;
    ptu_identity_test_hook_before_open = swap_hook;
}

static void disarm_swap(void)
{
    ptu_identity_test_hook_before_open = NULL;
}

/* id.json -> real.json (all fine).  After the link is read and before its
 * target is opened, real.json is replaced by a group-readable file: what is
 * checked is the file that is read, so the load is refused. */
TEST(load_checks_the_file_it_opens_not_the_one_it_resolved)
{
    pt_identity id = blank();
    write_key("real.json", 0600);
    write_key("loose.json", 0644);
    CHECK_EQ_INT(make_link("id.json", "real.json", -1), 0);
    arm_swap(1, "loose.json", "real.json");
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    disarm_swap();
    CHECK_EQ_INT(swap_done, 1); /* the window was really hit */
    CHECK_EQ_INT(hook_calls, 2);
    CHECK_STR_CONTAINS(err, "id.json is readable by group or others (mode 0644)");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

/* id.json is a good regular file when the load starts; just before it is
 * opened it becomes a link owned by another user (to a good file): the
 * open does not follow it (O_NOFOLLOW) and the link is refused. */
TEST(load_never_follows_a_foreign_link_swapped_in_before_the_open)
{
    pt_identity id = blank();
    write_key("id.json", 0600);
    write_key("real.json", 0600);
    CHECK_EQ_INT(make_link("evil", "real.json", OTHER_UID), 0);
    arm_swap(0, "evil", "id.json");
    CHECK_EQ_INT(load_name("id.json", &id), PT_EINVAL);
    disarm_swap();
    CHECK_EQ_INT(swap_done, 1);
    CHECK_STR_CONTAINS(err, "id.json is a symbolic link owned by uid 65534");
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

/* Can uid OTHER_UID reach files in DIR (TMPDIR may be private)?  Leaves
 * DIR searchable by others (its files keep their own modes). */
static int other_user_can_reach_dir(void)
{
    int ok;
    if (chmod(dir, 0711) != 0 || seteuid(OTHER_UID) != 0)
        return 0;
    ok = access(dir, X_OK) == 0;
    if (seteuid(0) != 0)
        abort();
    return ok;
}

TEST(no_message_contains_private_key_text)
{
    static const char *const files[] = {
        "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB2 "\"}",
        "{\"private_key\":\"" PRIV1 "\"}",
        "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\",}",
        "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PUB1 "\"} x",
        "{\"private_key\":\"" PRIV1 "\",\"private_key\":\"" PRIV1 "\"}",
        "{\"private_key\":\"" PRIV1 "=\",\"public_key\":\"" PUB1 "\"}",
        "{\"private_key\":\"" PRIV1 "AAAA\",\"public_key\":\"" PUB1 "\"}",
        "{\"private_key\":\"" PRIV1 "\",\"public_key\":\"" PRIV1 "\"}",
        "{\"public_key\":\"" PRIV1 "\",\"private_key\":7}",
        "{\"private_key\":\"" PRIV1 "\x01\",\"public_key\":\"" PUB1 "\"}",
        "\"" PRIV1 "\"",
    };
    pt_identity id = blank();
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        CHECK_EQ_INT(load_text(files[i], &id), PT_EINVAL);
        CHECK(err[0] != '\0');
        CHECK(strstr(err, PRIV1) == NULL);
        CHECK(strstr(err, "nWGxne") == NULL); /* not even a piece of it */
        CHECK_EQ_INT(ptu_identity_parse(files[i], strlen(files[i]), &id, err, sizeof err),
                     PT_EINVAL);
        CHECK(strstr(err, "nWGxne") == NULL);
    }
    CHECK_EQ_INT(id.has_key, 0);
    clear_dir();
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/pt-test-identity-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        printf("Bail out! mkdtemp %s: %s\n", dir, strerror(errno));
        return 99;
    }

    RUN(parse_accepts_rfc8032_key);
    RUN(parse_ignores_other_members_and_whitespace);
    RUN(parse_failure_leaves_identity_untouched);
    RUN(parse_messages_start_with_identity);
    RUN(public_b64_is_standard_base64);
    RUN(generate_makes_a_consistent_key);
    RUN(generate_makes_different_keys_each_time);
    RUN(save_then_load_round_trips);
    RUN(saved_file_has_mode_0600_whatever_the_umask);
    RUN(saved_file_is_the_documented_json);
    RUN(save_leaves_no_temporary_file);
    RUN(save_refuses_to_overwrite_without_force);
    RUN(save_refuses_a_dangling_symlink_without_force);
    RUN(save_overwrites_with_force);
    RUN(save_into_a_missing_directory_fails);
    RUN(save_over_a_directory_with_force_fails_and_cleans_up);
    RUN(save_refuses_a_missing_or_inconsistent_key);
    RUN(save_refuses_a_path_without_a_file_name);
    RUN(load_reports_a_missing_file);
    RUN(load_refuses_a_group_readable_file);
    RUN(load_refuses_a_world_readable_file);
    RUN(load_refuses_a_group_writable_file);
    RUN(load_accepts_mode_0400);
    RUN(load_refuses_a_directory);
    RUN(load_refuses_a_fifo_without_blocking);
    RUN(load_accepts_a_file_of_exactly_64_kib);
    RUN(load_refuses_a_file_over_64_kib);
    RUN(load_refuses_text_that_is_not_json);
    RUN(load_refuses_a_missing_private_key);
    RUN(load_refuses_a_missing_public_key);
    RUN(load_refuses_keys_that_are_not_strings);
    RUN(load_refuses_bad_base64);
    RUN(load_accepts_base64_written_with_json_escapes);
    RUN(load_refuses_a_63_byte_private_key);
    RUN(load_refuses_a_31_byte_public_key);
    RUN(load_refuses_a_public_key_not_matching_the_seed);
    RUN(load_refuses_a_private_key_whose_public_half_does_not_match_its_seed);
    RUN(load_keeps_node_id);
    RUN(no_message_contains_private_key_text);
    RUN(load_follows_a_symlink_owned_by_us);
    RUN(load_resolves_each_link_relative_to_its_own_directory);
    RUN(load_names_a_dangling_symlink_as_missing);
    RUN(load_refuses_a_symlink_loop);
    RUN(load_checks_the_file_it_opens_not_the_one_it_resolved);
    if (geteuid() == 0) {
        RUN(load_refuses_a_symlink_owned_by_another_user);
        RUN(load_refuses_a_foreign_link_further_down_a_chain);
        RUN(load_refuses_a_file_owned_by_another_user);
        RUN(load_never_follows_a_foreign_link_swapped_in_before_the_open);
        if (other_user_can_reach_dir())
            RUN(load_follows_root_owned_links_for_other_users);
        else
            SKIP(load_follows_root_owned_links_for_other_users,
                 "uid 65534 cannot reach the test directory under TMPDIR");
    } else {
        const char *why = "not root: cannot give a file or link to another user";
        SKIP(load_refuses_a_symlink_owned_by_another_user, why);
        SKIP(load_refuses_a_foreign_link_further_down_a_chain, why);
        SKIP(load_refuses_a_file_owned_by_another_user, why);
        SKIP(load_never_follows_a_foreign_link_swapped_in_before_the_open, why);
        SKIP(load_follows_root_owned_links_for_other_users, why);
    }

    clear_dir();
    if (rmdir(dir) != 0)
        printf("# cannot remove %s: %s\n", dir, strerror(errno));
    return tap_done();
}
