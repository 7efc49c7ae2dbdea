/*
 * standalone.c -- run a fuzz target without libFuzzer: once on each input
 * of a corpus, reporting TAP.  Linked with one fuzz-<name>.c, it makes
 * the check program tests/fuzz/fuzz-<name>-standalone.
 *
 *   fuzz-<name>-standalone [DIR|FILE]...
 *
 * Each argument is one test point: a directory runs every file in it (in
 * name order, dot files skipped), a file runs alone:
 *   ok 1 - json tests/fuzz/corpus/json (9 inputs)
 * Without arguments the corpus is $PT_SRCDIR/tests/fuzz/corpus/<name> (make
 * check exports PT_SRCDIR), else tests/fuzz/corpus/<name>.  A directory
 * that cannot be read or holds no input is "not ok".  A broken invariant
 * or a sanitizer error ends the program, and "standalone: running PATH" on
 * stderr, printed before each input, names the culprit.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Read the whole file into an exact-size heap buffer.  Returns 0, or -1
 * with errno set. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL, *grown;
    size_t len = 0, cap = 0, n;
    int rc = -1;

    if (!f)
        return -1;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            grown = realloc(buf, cap);
            if (!grown)
                goto out;
            buf = grown;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f))
        goto out;
    /* Shrink to the exact size so that over-reads are caught. */
    *data = malloc(len);
    if (!*data && len > 0)
        goto out;
    if (len > 0)
        memcpy(*data, buf, len);
    *size = len;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static int run_file(const char *path)
{
    uint8_t *data = NULL;
    size_t size = 0;

    fprintf(stderr, "standalone: running %s\n", path);
    if (read_file(path, &data, &size) != 0)
        return -1;
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Run every file in dir.  Returns the number run, or -1 with *why set. */
static long run_dir(const char *dir, const char **why)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, **grown;
    size_t n = 0, cap = 0;
    long ran = 0;

    if (!d) {
        *why = strerror(errno);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            grown = realloc(names, cap * sizeof *names);
            if (!grown)
                abort();
            names = grown;
        }
        names[n] = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (!names[n])
            abort();
        sprintf(names[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode)) {
            if (run_file(names[i]) != 0) {
                *why = strerror(errno);
                ran = -1;
            } else if (ran >= 0) {
                ran++;
            }
        }
        free(names[i]);
    }
    free(names);
    if (ran == 0)
        *why = "no inputs";
    return ran;
}

int main(int argc, char **argv)
{
    const char *srcdir = getenv("PT_SRCDIR");
    char def[4096];
    char *def_argv[] = { NULL, def, NULL };
    int failed = 0;

    if (argc < 2) {
        snprintf(def, sizeof def, "%s%stests/fuzz/corpus/%s", srcdir ? srcdir : "",
                 srcdir ? "/" : "", fuzz_target_name);
        argv = def_argv;
        argc = 2;
    }
    printf("1..%d\n", argc - 1);
    fflush(stdout);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        const char *why = NULL;
        long ran;

        if (stat(argv[i], &st) != 0) {
            why = strerror(errno);
            ran = -1;
        } else if (S_ISDIR(st.st_mode)) {
            ran = run_dir(argv[i], &why);
        } else {
            ran = run_file(argv[i]) == 0 ? 1 : -1;
            if (ran < 0)
                why = strerror(errno);
        }
        if (ran > 0) {
            printf("ok %d - %s %s (%ld input%s)\n", i, fuzz_target_name, argv[i], ran,
                   ran == 1 ? "" : "s");
        } else {
            printf("not ok %d - %s %s (%s)\n", i, fuzz_target_name, argv[i], why);
            failed = 1;
        }
        fflush(stdout);
    }
    return failed;
}
