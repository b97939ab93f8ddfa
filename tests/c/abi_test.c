/*
 * abi_test.c -- C99 conformance test of the frozen C ABI in include/jvs.h.
 *
 * Calls every exported function through the public header only, success and error paths, and
 * checks the ownership rules: *out_json is always written (set to NULL on entry, then a result or
 * an error document), every document is freed with jvs_free(). Run it under valgrind to see leaks:
 *     valgrind --leak-check=full --error-exitcode=1 build/jvs_c_abi_test
 * Environment: JVS_ABI_KEEP=1 keeps the temporary directory, JVS_ABI_VERBOSE=1 prints documents.
 * The last line is "N passed, M failed"; the exit status is non-zero if anything failed.
 *
 * Compiled with -std=c99 -Wpedantic -Werror. There is no JSON library here: a tiny scanner below
 * finds "key": value pairs, tolerant of whitespace, good enough for the library's documents.
 */
#define _XOPEN_SOURCE 700
#define _DEFAULT_SOURCE 1

#include "jvs.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

/* ---- bookkeeping -------------------------------------------------------------------------- */

static int g_passed = 0;
static int g_failed = 0;
static int g_verbose = 0;
static const char *g_ctx = NULL; /* the document under test, printed when a check fails */

static void check_impl(int ok, int line, const char *expr, const char *what) {
    if (ok) {
        g_passed++;
        return;
    }
    g_failed++;
    fprintf(stderr, "FAIL line %d: %s  [%s]\n", line, what, expr);
    if (g_ctx) fprintf(stderr, "     document: %.1500s\n", g_ctx);
}
#define CHECK(cond, what) check_impl((cond) != 0, __LINE__, #cond, (what))

/* A pointer value the library can never produce: every call must overwrite *out_json. */
static char g_sentinel_byte;
#define SENTINEL (&g_sentinel_byte)

/* ---- tiny JSON scanner -------------------------------------------------------------------- */

/* snprintf without the compile-time truncation analysis (-Wformat-truncation with -Werror). */
static void fmt(char *buf, size_t size, const char *format, ...) {
    va_list ap;
    va_start(ap, format);
    vsnprintf(buf, size, format, ap);
    va_end(ap);
}

static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

/* Finds the next occurrence of "key": at or after `from`; returns a pointer to its value. */
static const char *json_next_value(const char *from, const char *key) {
    size_t klen = strlen(key);
    const char *p = from;
    while (p && (p = strchr(p, '"')) != NULL) {
        if (strncmp(p + 1, key, klen) == 0 && p[1 + klen] == '"' && (p == from || p[-1] != '\\')) {
            const char *q = p + 2 + klen;
            while (is_ws(*q)) q++;
            if (*q == ':') {
                q++;
                while (is_ws(*q)) q++;
                return q;
            }
        }
        p++;
    }
    return NULL;
}

/* Does any "key" have a value starting with the JSON literal `lit` (e.g. "\"main\"", "true", "-2")? */
static int json_has(const char *json, const char *key, const char *lit) {
    size_t n = strlen(lit);
    const char *v = json;
    if (!json) return 0;
    while ((v = json_next_value(v, key)) != NULL) {
        if (strncmp(v, lit, n) == 0) {
            char after = v[n];
            if (lit[n - 1] == '"' || after == ',' || after == '}' || after == ']' || is_ws(after) || after == 0)
                return 1;
        }
    }
    return 0;
}

/* Copies the first string value of "key" into buf (simple unescaping of \" and \\). */
static int json_str(const char *json, const char *key, char *buf, size_t size) {
    const char *v = json ? json_next_value(json, key) : NULL;
    size_t i = 0;
    while (v && *v != '"') v = json_next_value(v, key);
    if (!v || size == 0) return 0;
    v++;
    while (*v && *v != '"' && i + 1 < size) {
        if (*v == '\\' && v[1]) v++;
        buf[i++] = *v++;
    }
    buf[i] = 0;
    return *v == '"';
}

/* Number of "key": occurrences. */
static int json_count(const char *json, const char *key) {
    int n = 0;
    const char *v = json;
    if (!json) return 0;
    while ((v = json_next_value(v, key)) != NULL) n++;
    return n;
}

static int has_str(const char *json, const char *key, const char *value) {
    char lit[512];
    fmt(lit, sizeof lit, "\"%s\"", value);
    return json_has(json, key, lit);
}

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* ---- document checks ---------------------------------------------------------------------- */

/* A successful call: status OK, *out_json overwritten with a document of `kind`, schema 1. */
static int expect_ok(const char *what, jvs_status st, const char *out, const char *kind) {
    int before = g_failed;
    g_ctx = (out == SENTINEL) ? NULL : out;
    if (g_verbose && out && out != SENTINEL) printf("  %s -> %d %s\n", what, (int)st, out);
    CHECK(st == JVS_OK, what);
    CHECK(out != SENTINEL, what);
    if (out != SENTINEL) {
        CHECK(out != NULL, what);
        CHECK(json_has(out, "schema", "1"), what);
        CHECK(has_str(out, "kind", kind), what);
    }
    g_ctx = NULL;
    return g_failed == before;
}

/* A failing call: the status, and an error document carrying code, status, status_name, etc. */
static int expect_err(const char *what, jvs_status st, const char *out, jvs_status want, const char *code) {
    int before = g_failed;
    char lit[32];
    g_ctx = (out == SENTINEL) ? NULL : out;
    if (g_verbose && out && out != SENTINEL) printf("  %s -> %d %s\n", what, (int)st, out);
    if (st != want) fprintf(stderr, "     %s: status %d (%s), wanted %d\n", what, (int)st, jvs_status_name(st), (int)want);
    CHECK(st == want, what);
    CHECK(out != SENTINEL, what);
    if (out != SENTINEL && out != NULL && !has_str(out, "kind", "error")) {
        CHECK(has_str(out, "kind", "error"), what); /* a result instead of an error: one failure is enough */
    } else if (out != SENTINEL && out != NULL) {
        fmt(lit, sizeof lit, "%d", (int)want);
        CHECK(json_has(out, "schema", "1"), what);
        CHECK(has_str(out, "kind", "error"), what);
        if (code) CHECK(has_str(out, "code", code), what);
        CHECK(json_has(out, "status", lit), what);
        CHECK(has_str(out, "status_name", jvs_status_name(want)), what);
        CHECK(json_next_value(out, "message") != NULL, what);
        CHECK(json_next_value(out, "hint") != NULL, what);
        CHECK(json_next_value(out, "op") != NULL, what);
    } else {
        CHECK(out != NULL, what); /* only JVS_E_NOMEM may leave it NULL */
    }
    g_ctx = NULL;
    return g_failed == before;
}

/* ---- filesystem helpers ------------------------------------------------------------------- */

static char g_base[512]; /* mkdtemp directory */
static char g_root[600]; /* repository root   */

static void path_join(char *buf, size_t size, const char *a, const char *b) { fmt(buf, size, "%s/%s", a, b); }

static int write_file(const char *path, const char *content) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fputs(content, f);
    return fclose(f);
}

static int read_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "rb");
    size_t n;
    if (!f) return -1;
    n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
    return (int)n;
}

static int exists(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0;
}

static int count_dir(const char *path) {
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;
    if (!d) return 0;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) n++;
    closedir(d);
    return n;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* ---- callbacks ---------------------------------------------------------------------------- */

typedef struct {
    int events;
    int bad;           /* events that are not schema-1 progress documents of the expected op */
    const char *op;    /* expected "op" (NULL: don't check) */
    int cancel_after;  /* return non-zero on this event number (1-based); 0 = never */
    jvs_repo *interrupt_repo; /* call jvs_repo_interrupt(repo) on the first event, return 0 */
} cb_state;

static int32_t JVS_CALL on_event(const char *event_json, void *user_data) {
    cb_state *s = (cb_state *)user_data;
    s->events++;
    if (!event_json || !json_has(event_json, "schema", "1") || !has_str(event_json, "kind", "progress") ||
        !json_next_value(event_json, "phase") || !json_next_value(event_json, "done") ||
        !json_next_value(event_json, "total") || (s->op && !has_str(event_json, "op", s->op))) {
        if (s->bad++ == 0) fprintf(stderr, "     unexpected event: %s\n", event_json ? event_json : "(null)");
    }
    if (g_verbose) printf("    event %s\n", event_json ? event_json : "(null)");
    if (s->interrupt_repo && s->events == 1) jvs_repo_interrupt(s->interrupt_repo);
    return (s->cancel_after && s->events >= s->cancel_after) ? 1 : 0;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_versions(void) {
    const char *vs = jvs_version_string();
    char *out = SENTINEL;
    jvs_status st;
    static const char *ops[] = {"info", "snapshot", "restore", "history", "resolve", "verify", "worktree_create",
                                "worktree_fork", "worktree_list", "worktree_path", "worktree_rename",
                                "worktree_remove"};
    static const char *codes[] = {"E_ARG_NULL", "E_JSON_INVALID", "E_OPTION_UNKNOWN", "E_OPTION_INVALID",
                                  "E_REF_NOT_FOUND", "E_LOCKED", "E_CANCELLED", "E_INTERNAL"};
    char lit[64];
    size_t i;

    CHECK(jvs_abi_version() == JVS_ABI_VERSION, "jvs_abi_version() == JVS_ABI_VERSION");
    CHECK(jvs_version_number() == JVS_VERSION_NUMBER, "jvs_version_number() == JVS_VERSION_NUMBER");
    CHECK(JVS_VERSION_NUMBER == JVS_VERSION_MAJOR * 1000000 + JVS_VERSION_MINOR * 1000 + JVS_VERSION_PATCH,
          "JVS_VERSION_NUMBER formula");
    CHECK(JVS_ABI_VERSION == JVS_VERSION_MAJOR, "ABI version == major");
    CHECK(vs != NULL && strcmp(vs, JVS_VERSION_STRING) == 0, "jvs_version_string() == JVS_VERSION_STRING");
    CHECK(jvs_version_string() == vs, "jvs_version_string() is static (same pointer)");

    st = jvs_build_info(&out);
    if (expect_ok("build_info", st, out, "build_info")) {
        g_ctx = out;
        CHECK(strstr(out, "\"kind\":\"build_info\"") != NULL, "build_info contains \"kind\":\"build_info\" (compact)");
        CHECK(has_str(out, "version", JVS_VERSION_STRING), "build_info version");
        fmt(lit, sizeof lit, "%d", JVS_VERSION_NUMBER);
        CHECK(json_has(out, "version_number", lit), "build_info version_number");
        fmt(lit, sizeof lit, "%d", JVS_ABI_VERSION);
        CHECK(json_has(out, "abi_version", lit), "build_info abi_version");
        fmt(lit, sizeof lit, "%d", JVS_SCHEMA_VERSION);
        CHECK(json_has(out, "schema", lit), "build_info schema == JVS_SCHEMA_VERSION");
        CHECK(json_next_value(out, "features") != NULL, "build_info features");
        CHECK(json_next_value(out, "error_codes") != NULL, "build_info error_codes");
        for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
            if (!has_str(out, "name", ops[i])) fprintf(stderr, "     build_info lacks operation %s\n", ops[i]);
            CHECK(has_str(out, "name", ops[i]), "build_info lists every operation");
        }
        for (i = 0; i < sizeof codes / sizeof codes[0]; i++) {
            fmt(lit, sizeof lit, "\"%s\"", codes[i]);
            CHECK(strstr(out, lit) != NULL, "build_info lists error codes");
        }
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(jvs_build_info(NULL) == JVS_E_INVALID_ARG, "jvs_build_info(NULL) -> JVS_E_INVALID_ARG");
    jvs_free(NULL); /* must be a no-op */
    CHECK(1, "jvs_free(NULL) did not crash");
}

static void test_status_names(void) {
    static const jvs_status all[] = {JVS_OK,        JVS_E_ERROR,     JVS_E_INVALID_ARG, JVS_E_NOT_FOUND, JVS_E_EXISTS,
                                     JVS_E_LOCKED,  JVS_E_CONFLICT,  JVS_E_CORRUPT,     JVS_E_IO,        JVS_E_CANCELLED,
                                     JVS_E_UNSUPPORTED, JVS_E_NOMEM, JVS_E_INTERNAL};
    size_t i, j;
    const char *u1 = jvs_status_name(-9999), *u2 = jvs_status_name(42), *u3 = jvs_status_name(INT32_MIN);
    for (i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *n = jvs_status_name(all[i]);
        CHECK(n != NULL && n[0] != 0, "jvs_status_name(known) is non-empty");
        if (!n) continue;
        CHECK(n == jvs_status_name(all[i]), "jvs_status_name is static");
        for (j = 0; j < i; j++) {
            const char *m = jvs_status_name(all[j]);
            CHECK(m == NULL || strcmp(n, m) != 0, "status names are distinct");
        }
        CHECK(u1 == NULL || strcmp(n, u1) != 0, "unknown status name differs from known names");
    }
    CHECK(strstr(jvs_status_name(JVS_E_INVALID_ARG), "INVALID_ARG") != NULL, "name of JVS_E_INVALID_ARG");
    CHECK(strstr(jvs_status_name(JVS_E_NOT_FOUND), "NOT_FOUND") != NULL, "name of JVS_E_NOT_FOUND");
    CHECK(strstr(jvs_status_name(JVS_OK), "OK") != NULL, "name of JVS_OK");
    CHECK(u1 != NULL && u1[0] != 0, "jvs_status_name(unknown) is non-empty");
    CHECK(u2 != NULL && u2[0] != 0, "jvs_status_name(42) is non-empty");
    CHECK(u3 != NULL && u3[0] != 0, "jvs_status_name(INT32_MIN) is non-empty");
}

/* Every NULL pointer argument is reported, never dereferenced. */
static void test_null_args(jvs_repo *repo) {
    char *out;
    jvs_repo *r;
    char p[700];
    jvs_status st;

    out = SENTINEL;
    r = (jvs_repo *)SENTINEL;
    st = jvs_repo_init(NULL, NULL, &r, &out);
    expect_err("repo_init(path=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL");
    CHECK(r == NULL, "repo_init failure sets *out_repo = NULL");
    jvs_free(out);

    path_join(p, sizeof p, g_base, "never-created");
    out = SENTINEL;
    st = jvs_repo_init(p, NULL, NULL, &out);
    expect_err("repo_init(out_repo=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL");
    jvs_free(out);
    CHECK(!exists(p), "repo_init(out_repo=NULL) created nothing");

    r = (jvs_repo *)SENTINEL;
    CHECK(jvs_repo_init(p, NULL, &r, NULL) == JVS_E_INVALID_ARG, "repo_init(out_json=NULL)");
    CHECK(r == NULL || r == (jvs_repo *)SENTINEL, "repo_init(out_json=NULL) returns no handle");
    CHECK(!exists(p), "repo_init(out_json=NULL) created nothing");

    out = SENTINEL;
    r = (jvs_repo *)SENTINEL;
    st = jvs_repo_open(NULL, NULL, &r, &out);
    expect_err("repo_open(path=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL");
    CHECK(r == NULL, "repo_open failure sets *out_repo = NULL");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_repo_open(g_root, NULL, NULL, &out);
    expect_err("repo_open(out_repo=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL");
    jvs_free(out);

#define NULL_REPO(call, name)                                                  \
    do {                                                                       \
        out = SENTINEL;                                                        \
        st = call;                                                             \
        expect_err(name "(repo=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL"); \
        jvs_free(out);                                                         \
    } while (0)
    NULL_REPO(jvs_info(NULL, NULL, &out), "info");
    NULL_REPO(jvs_snapshot(NULL, NULL, NULL, NULL, &out), "snapshot");
    NULL_REPO(jvs_restore(NULL, "{\"ref\":\"HEAD\"}", NULL, NULL, &out), "restore");
    NULL_REPO(jvs_history(NULL, NULL, &out), "history");
    NULL_REPO(jvs_resolve(NULL, "{\"ref\":\"HEAD\"}", &out), "resolve");
    NULL_REPO(jvs_verify(NULL, NULL, NULL, NULL, &out), "verify");
    NULL_REPO(jvs_worktree_create(NULL, "{\"name\":\"x\"}", NULL, NULL, &out), "worktree_create");
    NULL_REPO(jvs_worktree_fork(NULL, NULL, NULL, NULL, &out), "worktree_fork");
    NULL_REPO(jvs_worktree_list(NULL, NULL, &out), "worktree_list");
    NULL_REPO(jvs_worktree_path(NULL, NULL, &out), "worktree_path");
    NULL_REPO(jvs_worktree_rename(NULL, "{\"name\":\"a\",\"new_name\":\"b\"}", &out), "worktree_rename");
    NULL_REPO(jvs_worktree_remove(NULL, "{\"name\":\"x\"}", &out), "worktree_remove");
    NULL_REPO(jvs_call(NULL, "info", NULL, NULL, NULL, &out), "call");
#undef NULL_REPO

    out = SENTINEL;
    st = jvs_call(repo, NULL, NULL, NULL, NULL, &out);
    expect_err("call(method=NULL)", st, out, JVS_E_INVALID_ARG, "E_ARG_NULL");
    jvs_free(out);

    /* out_json == NULL: nowhere to put a document, but the status still says what happened. */
    CHECK(jvs_info(repo, NULL, NULL) == JVS_E_INVALID_ARG, "info(out_json=NULL)");
    CHECK(jvs_history(repo, NULL, NULL) == JVS_E_INVALID_ARG, "history(out_json=NULL)");
    CHECK(jvs_snapshot(repo, NULL, NULL, NULL, NULL) == JVS_E_INVALID_ARG, "snapshot(out_json=NULL)");
    CHECK(jvs_call(repo, "info", NULL, NULL, NULL, NULL) == JVS_E_INVALID_ARG, "call(out_json=NULL)");

    jvs_repo_close(NULL); /* no-op */
    CHECK(1, "jvs_repo_close(NULL) did not crash");
}

/* jvs_repo_interrupt(NULL) is not documented as a no-op; run it in a child so a crash is a failure. */
static void test_interrupt_null(void) {
    pid_t pid;
    int status = 0;
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        jvs_repo_interrupt(NULL);
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "jvs_repo_interrupt(NULL) does not crash");
}

/* Options errors. Calls that could succeed if the library were lenient (and so change the
 * repository) run on `scratch`, a separate repository, so a failure here does not cascade. */
static void test_bad_options(jvs_repo *repo, jvs_repo *scratch) {
    char *out;
    jvs_status st;
    static const char *bad_json[] = {"{not json", "[1,2]", "42", "\"str\"", "{\"worktree\":\"ma\xff\"}", "{} trailing"};
    size_t i;

    for (i = 0; i < sizeof bad_json / sizeof bad_json[0]; i++) {
        out = SENTINEL;
        st = jvs_info(repo, bad_json[i], &out);
        if (st != JVS_E_INVALID_ARG) fprintf(stderr, "     options %s\n", bad_json[i]);
        expect_err("info(invalid JSON)", st, out, JVS_E_INVALID_ARG, "E_JSON_INVALID");
        jvs_free(out);
    }
    out = SENTINEL;
    st = jvs_snapshot(scratch, "{\"note\":", NULL, NULL, &out);
    expect_err("snapshot(invalid JSON)", st, out, JVS_E_INVALID_ARG, "E_JSON_INVALID");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_info(repo, "", &out);
    expect_ok("info(\"\") = defaults", st, out, "info");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_info(repo, "{}", &out);
    expect_ok("info({})", st, out, "info");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_info(repo, "{\"bogus_key\":1}", &out);
    if (expect_err("info(unknown key)", st, out, JVS_E_UNSUPPORTED, "E_OPTION_UNKNOWN"))
        CHECK(strstr(out, "bogus_key") != NULL, "E_OPTION_UNKNOWN names the key");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_snapshot(scratch, "{\"notes\":\"typo\"}", NULL, NULL, &out);
    expect_err("snapshot(unknown key)", st, out, JVS_E_UNSUPPORTED, "E_OPTION_UNKNOWN");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_call(repo, "history", "{\"bogus\":true}", NULL, NULL, &out);
    expect_err("call history(unknown key)", st, out, JVS_E_UNSUPPORTED, "E_OPTION_UNKNOWN");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_history(repo, "{\"limit\":\"ten\"}", &out);
    expect_err("history(limit: string)", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_snapshot(scratch, "{\"tags\":\"v1\"}", NULL, NULL, &out);
    expect_err("snapshot(tags: string)", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_snapshot(scratch, "{\"compress\":\"gzip\"}", NULL, NULL, &out);
    expect_err("snapshot(compress: gzip)", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_resolve(repo, "{}", &out);
    expect_err("resolve(no ref)", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_snapshot(scratch, "{\"tags\":[\"bad tag\"]}", NULL, NULL, &out);
    expect_err("snapshot(tag with space)", st, out, JVS_E_INVALID_ARG, "E_TAG_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_info(repo, "{\"worktree\":\"no-such-wt\"}", &out);
    expect_err("info(worktree: missing)", st, out, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND");
    jvs_free(out);
}

static void history_count(jvs_repo *repo, const char *opts, int *count, char *first_id, size_t n) {
    char *out = SENTINEL;
    jvs_status st = jvs_history(repo, opts, &out);
    *count = -1;
    if (expect_ok("history", st, out, "history")) {
        *count = json_count(out, "snapshot_id");
        if (first_id) json_str(out, "snapshot_id", first_id, n);
    }
    jvs_free(out);
}

typedef struct {
    jvs_repo *repo;
    const char *worktree;
    const char *dir;
    const char *tag; /* file name prefix, distinct per thread */
    int n;
    int ok;
    int failed_status;
} thread_job;

static void *snapshot_thread(void *arg) {
    thread_job *job = (thread_job *)arg;
    int i;
    char path[800], opts[200], name[64];
    for (i = 0; i < job->n; i++) {
        char *out = SENTINEL;
        jvs_status st;
        fmt(name, sizeof name, "%s-f%d.txt", job->tag, i);
        path_join(path, sizeof path, job->dir, name);
        write_file(path, name);
        fmt(opts, sizeof opts, "{\"worktree\":\"%s\",\"note\":\"%s-%d\"}", job->worktree, job->worktree, i);
        st = jvs_snapshot(job->repo, opts, NULL, NULL, &out);
        if (st == JVS_OK && out != SENTINEL && out && has_str(out, "kind", "snapshot"))
            job->ok++;
        else {
            job->failed_status = st;
            fprintf(stderr, "     thread %s snapshot %d: %d %s\n", job->worktree, i, (int)st,
                    out && out != SENTINEL ? out : "(no document)");
        }
        jvs_free(out == SENTINEL ? NULL : out);
    }
    return NULL;
}

int main(void) {
    const char *tmp = getenv("TMPDIR");
    char main_dir[700], sub[800], p[900], buf[PATH_MAX], id1[64] = "", id2[64] = "", tmp_id[64] = "";
    char fork_name[128] = "", wt_path[900] = "", opts[400];
    char *out;
    jvs_repo *repo = NULL, *repo2 = NULL, *sub_repo = NULL, *scratch = NULL;
    jvs_status st;
    int count = 0, before = 0, snaps_before = 0, descs_before = 0, i;
    cb_state cb;

    g_verbose = getenv("JVS_ABI_VERBOSE") != NULL;
    fmt(g_base, sizeof g_base, "%s/jvs-abi-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_base)) {
        perror("mkdtemp");
        return 2;
    }
    path_join(g_root, sizeof g_root, g_base, "repo");
    path_join(main_dir, sizeof main_dir, g_root, "main");

    test_versions();
    test_status_names();
    test_interrupt_null();

    /* ---- init / open ------------------------------------------------------------------- */
    out = SENTINEL;
    st = jvs_repo_init(g_root, NULL, &repo, &out);
    if (!expect_ok("repo_init", st, out, "repo") || !repo) {
        fprintf(stderr, "cannot continue without a repository\n");
        jvs_free(out == SENTINEL ? NULL : out);
        printf("%d passed, %d failed\n", g_passed, g_failed + 1);
        return 1;
    }
    g_ctx = out;
    CHECK(json_has(out, "created", "true"), "init: created true");
    CHECK(json_has(out, "format_version", "1"), "init: format_version 1");
    CHECK(json_next_value(out, "repo_id") != NULL, "init: repo_id");
    CHECK(has_str(out, "worktree", "main"), "init: handle bound to main");
    g_ctx = NULL;
    jvs_free(out);
    path_join(p, sizeof p, g_root, ".jvs/format_version");
    CHECK(exists(p), "init wrote .jvs/format_version");
    CHECK(exists(main_dir), "init created main/");

    out = SENTINEL;
    repo2 = (jvs_repo *)SENTINEL;
    st = jvs_repo_init(g_root, NULL, &repo2, &out);
    expect_err("repo_init again", st, out, JVS_E_EXISTS, "E_REPO_EXISTS");
    CHECK(repo2 == NULL, "repo_init again: no handle");
    jvs_free(out);

    path_join(p, sizeof p, g_base, "badname");
    out = SENTINEL;
    repo2 = NULL;
    st = jvs_repo_init(p, "{\"name\":\"a/b\"}", &repo2, &out);
    expect_err("repo_init(name a/b)", st, out, JVS_E_INVALID_ARG, "E_NAME_INVALID");
    jvs_repo_close(repo2);
    jvs_free(out);

    path_join(p, sizeof p, g_base, "named");
    out = SENTINEL;
    repo2 = NULL;
    st = jvs_repo_init(p, "{\"name\":\"named\"}", &repo2, &out);
    expect_ok("repo_init(name)", st, out, "repo");
    jvs_free(out);
    scratch = repo2;

    out = SENTINEL;
    repo2 = (jvs_repo *)SENTINEL;
    st = jvs_repo_open(g_base, NULL, &repo2, &out); /* the mkdtemp dir holds no repository */
    expect_err("repo_open(non-repo)", st, out, JVS_E_NOT_FOUND, "E_NOT_REPO");
    CHECK(repo2 == NULL, "repo_open failure: no handle");
    jvs_free(out);

    test_null_args(repo);
    test_bad_options(repo, scratch);
    jvs_repo_close(scratch);

    /* payload */
    path_join(sub, sizeof sub, main_dir, "sub");
    mkdir(sub, 0755);
    path_join(p, sizeof p, sub, "deeper");
    mkdir(p, 0755);
    path_join(p, sizeof p, main_dir, "a.txt");
    write_file(p, "alpha\n");
    path_join(p, sizeof p, sub, "b.txt");
    write_file(p, "bravo\n");
    path_join(p, sizeof p, main_dir, "link");
    CHECK(symlink("a.txt", p) == 0, "symlink");

    path_join(p, sizeof p, sub, "deeper");
    out = SENTINEL;
    st = jvs_repo_open(p, NULL, &sub_repo, &out);
    if (expect_ok("repo_open(main/sub/deeper)", st, out, "repo")) {
        g_ctx = out;
        CHECK(has_str(out, "worktree", "main"), "open from subdir: worktree main");
        CHECK(json_has(out, "created", "false"), "open: created false");
        {
            char real[PATH_MAX];
            CHECK(realpath(g_root, real) != NULL && json_str(out, "repo_root", buf, sizeof buf) &&
                      strcmp(buf, real) == 0,
                  "open: repo_root is the absolute repository root");
        }
        g_ctx = NULL;
    }
    jvs_free(out);

    out = SENTINEL;
    st = jvs_info(sub_repo, NULL, &out);
    if (expect_ok("info", st, out, "info")) {
        g_ctx = out;
        CHECK(json_has(out, "total_snapshots", "0"), "info: 0 snapshots");
        CHECK(json_has(out, "total_worktrees", "1"), "info: 1 worktree");
        CHECK(has_str(out, "version", JVS_VERSION_STRING), "info: version");
        g_ctx = NULL;
    }
    jvs_free(out);

    /* ---- snapshot ---------------------------------------------------------------------- */
    out = SENTINEL;
    st = jvs_resolve(repo, "{\"ref\":\"HEAD\"}", &out);
    expect_err("resolve HEAD with no snapshots", st, out, JVS_E_NOT_FOUND, NULL);
    jvs_free(out);

    memset(&cb, 0, sizeof cb);
    cb.op = "snapshot";
    out = SENTINEL;
    st = jvs_snapshot(sub_repo, "{\"note\":\"first\"}", on_event, &cb, &out);
    if (expect_ok("snapshot 1", st, out, "snapshot")) {
        g_ctx = out;
        CHECK(json_str(out, "snapshot_id", id1, sizeof id1) && strlen(id1) == 22 && id1[13] == '-', "snapshot id form");
        CHECK(!json_has(out, "parent_id", "\""), "first snapshot has no parent");
        CHECK(has_str(out, "note", "first"), "snapshot note");
        CHECK(has_str(out, "worktree_name", "main"), "snapshot worktree_name");
        CHECK(has_str(out, "integrity_state", "verified"), "integrity_state verified");
        CHECK(json_next_value(out, "payload_root_hash") != NULL, "payload_root_hash");
        CHECK(json_next_value(out, "descriptor_checksum") != NULL, "descriptor_checksum");
        CHECK(json_has(out, "files", "2"), "stats.files == 2");
        CHECK(json_has(out, "symlinks", "1"), "stats.symlinks == 1");
        CHECK(json_next_value(out, "degradations") != NULL, "degradations present");
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(cb.events >= 1, "snapshot emitted progress events");
    CHECK(cb.bad == 0, "every event is a schema-1 progress document of op snapshot");
    path_join(p, sizeof p, g_root, ".jvs/descriptors");
    fmt(sub, sizeof sub, "%s/%s.json", p, id1);
    CHECK(exists(sub), "descriptor file written");

    path_join(p, sizeof p, main_dir, "c.txt");
    write_file(p, "charlie\n");
    out = SENTINEL;
    st = jvs_snapshot(repo, "{\"note\":\"second\",\"tags\":[\"v1\",\"stable\"]}", NULL, NULL, &out);
    if (expect_ok("snapshot 2 (tags, no callback)", st, out, "snapshot")) {
        g_ctx = out;
        json_str(out, "snapshot_id", id2, sizeof id2);
        CHECK(has_str(out, "parent_id", id1), "snapshot 2 parent is snapshot 1");
        CHECK(strstr(out, "\"v1\"") && strstr(out, "\"stable\""), "tags recorded");
        g_ctx = NULL;
    }
    jvs_free(out);

    /* ---- cancellation: callback returns non-zero, and jvs_repo_interrupt from the callback -- */
    history_count(repo, "{\"all\":true}", &before, NULL, 0);
    path_join(p, sizeof p, g_root, ".jvs/snapshots");
    snaps_before = count_dir(p);
    path_join(p, sizeof p, g_root, ".jvs/descriptors");
    descs_before = count_dir(p);
    path_join(p, sizeof p, main_dir, "d.txt");
    write_file(p, "delta\n");
    memset(&cb, 0, sizeof cb);
    cb.cancel_after = 1;
    out = SENTINEL;
    st = jvs_snapshot(repo, "{\"note\":\"cancelled\"}", on_event, &cb, &out);
    expect_err("snapshot cancelled by callback", st, out, JVS_E_CANCELLED, "E_CANCELLED");
    jvs_free(out);
    CHECK(cb.events == 1, "no event after the callback asked to cancel");
    history_count(repo, "{\"all\":true}", &count, tmp_id, sizeof tmp_id);
    CHECK(count == before, "cancelled snapshot: history unchanged");
    CHECK(strcmp(tmp_id, id2) == 0, "cancelled snapshot: newest is still snapshot 2");
    path_join(p, sizeof p, g_root, ".jvs/snapshots");
    CHECK(count_dir(p) == snaps_before, "cancelled snapshot: .jvs/snapshots unchanged");
    path_join(p, sizeof p, g_root, ".jvs/descriptors");
    CHECK(count_dir(p) == descs_before, "cancelled snapshot: .jvs/descriptors unchanged");
    path_join(p, sizeof p, g_root, ".jvs/intents");
    CHECK(count_dir(p) == 0, "cancelled snapshot: no intent left");
    path_join(p, sizeof p, main_dir, "d.txt");
    CHECK(exists(p), "cancelled snapshot: workspace untouched");

    memset(&cb, 0, sizeof cb);
    cb.interrupt_repo = repo;
    out = SENTINEL;
    st = jvs_snapshot(repo, "{\"note\":\"interrupted\"}", on_event, &cb, &out);
    expect_err("snapshot interrupted (jvs_repo_interrupt from callback)", st, out, JVS_E_CANCELLED, "E_CANCELLED");
    jvs_free(out);
    history_count(repo, "{\"all\":true}", &count, NULL, 0);
    CHECK(count == before, "interrupted snapshot: history unchanged");

    /* interrupt on an idle handle is harmless: the next call runs normally */
    jvs_repo_interrupt(repo);
    jvs_repo_interrupt(repo);
    out = SENTINEL;
    st = jvs_info(repo, NULL, &out);
    expect_ok("info after idle interrupt", st, out, "info");
    jvs_free(out);
    path_join(p, sizeof p, main_dir, "d.txt");
    remove(p);

    /* ---- history ----------------------------------------------------------------------- */
    history_count(repo, NULL, &count, tmp_id, sizeof tmp_id);
    CHECK(count == 2, "history: 2 snapshots");
    CHECK(strcmp(tmp_id, id2) == 0, "history: newest first");
    out = SENTINEL;
    st = jvs_history(repo, "{\"limit\":1}", &out);
    if (expect_ok("history limit 1", st, out, "history")) {
        g_ctx = out;
        CHECK(json_count(out, "snapshot_id") == 1, "history limit 1: one snapshot");
        CHECK(has_str(out, "mode", "lineage"), "history mode lineage");
        CHECK(has_str(out, "head_snapshot_id", id2), "history head");
        CHECK(has_str(out, "latest_snapshot_id", id2), "history latest");
        g_ctx = NULL;
    }
    jvs_free(out);
    history_count(repo, "{\"tag\":\"v1\"}", &count, NULL, 0);
    CHECK(count == 1, "history tag filter");
    history_count(repo, "{\"grep\":\"fir\"}", &count, NULL, 0);
    CHECK(count == 1, "history grep filter");
    out = SENTINEL;
    st = jvs_history(repo, "{\"all\":true}", &out);
    if (expect_ok("history all", st, out, "history")) {
        g_ctx = out;
        CHECK(has_str(out, "mode", "all"), "history mode all");
        g_ctx = NULL;
    }
    jvs_free(out);

    /* ---- resolve ----------------------------------------------------------------------- */
#define RESOLVE(optstr, matched, want_id, what)                                              \
    do {                                                                                    \
        out = SENTINEL;                                                                     \
        st = jvs_resolve(repo, optstr, &out);                                               \
        if (expect_ok(what, st, out, "resolve")) {                                          \
            g_ctx = out;                                                                    \
            if (matched) CHECK(has_str(out, "matched_by", (const char *)matched), what ": matched_by"); \
            CHECK(has_str(out, "snapshot_id", want_id), what ": snapshot");                 \
            g_ctx = NULL;                                                                   \
        }                                                                                   \
        jvs_free(out);                                                                      \
    } while (0)
    fmt(opts, sizeof opts, "{\"ref\":\"%s\"}", id1);
    RESOLVE(opts, "id", id1, "resolve exact id");
    RESOLVE("{\"ref\":\"HEAD\"}", "head", id2, "resolve HEAD");
    RESOLVE("{\"ref\":\"HEAD~1\"}", NULL, id1, "resolve HEAD~1");
    RESOLVE("{\"ref\":\"v1\"}", "tag", id2, "resolve tag");
    RESOLVE("{\"ref\":\"stab\"}", "tag_prefix", id2, "resolve tag prefix");
    RESOLVE("{\"ref\":\"firs\"}", "note_prefix", id1, "resolve note prefix");
    fmt(opts, sizeof opts, "{\"ref\":\"%.20s\"}", id1);
    RESOLVE(opts, "id_prefix", id1, "resolve id prefix");
    out = SENTINEL;
    st = jvs_resolve(repo, "{\"ref\":\"nothing-like-this\"}", &out);
    expect_err("resolve unknown", st, out, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_resolve(repo, "{\"ref\":\"1\"}", &out); /* both ids start with "1" */
    if (expect_err("resolve ambiguous", st, out, JVS_E_INVALID_ARG, "E_REF_AMBIGUOUS"))
        CHECK(json_next_value(out, "candidates") != NULL, "ambiguous: details.candidates");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_resolve(repo, "{\"ref\":\"HEAD~5\"}", &out);
    expect_err("resolve HEAD~5", st, out, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND");
    jvs_free(out);
#undef RESOLVE

    /* ---- restore ----------------------------------------------------------------------- */
    path_join(p, sizeof p, main_dir, "a.txt");
    write_file(p, "alpha modified\n");
    path_join(p, sizeof p, main_dir, "new.txt");
    write_file(p, "untracked\n");
    memset(&cb, 0, sizeof cb);
    fmt(opts, sizeof opts, "{\"ref\":\"%s\",\"dry_run\":true}", id1);
    out = SENTINEL;
    st = jvs_restore(repo, opts, on_event, &cb, &out);
    if (expect_ok("restore dry_run", st, out, "restore")) {
        g_ctx = out;
        CHECK(json_has(out, "dry_run", "true"), "dry_run true");
        CHECK(has_str(out, "snapshot_id", id1), "restore snapshot_id");
        CHECK(has_str(out, "path", "a.txt") && has_str(out, "action", "update"), "plan: a.txt update");
        CHECK(has_str(out, "path", "new.txt") && has_str(out, "action", "delete"), "plan: new.txt delete");
        CHECK(has_str(out, "path", "c.txt"), "plan: c.txt delete");
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(cb.bad == 0, "restore events are progress documents");
    path_join(p, sizeof p, main_dir, "a.txt");
    CHECK(read_file(p, buf, sizeof buf) > 0 && strcmp(buf, "alpha modified\n") == 0, "dry_run touched nothing");
    path_join(p, sizeof p, main_dir, "new.txt");
    CHECK(exists(p), "dry_run kept new.txt");
    history_count(repo, "{\"limit\":1}", &count, tmp_id, sizeof tmp_id);
    CHECK(strcmp(tmp_id, id2) == 0, "dry_run did not move head");

    fmt(opts, sizeof opts, "{\"ref\":\"%s\"}", id1);
    out = SENTINEL;
    st = jvs_restore(repo, opts, NULL, NULL, &out);
    if (expect_ok("restore snapshot 1", st, out, "restore")) {
        g_ctx = out;
        CHECK(json_has(out, "dry_run", "false"), "dry_run false");
        CHECK(json_has(out, "detached", "true"), "restore older snapshot: detached");
        CHECK(has_str(out, "worktree", "main"), "restore worktree");
        CHECK(json_has(out, "partial", "false"), "partial false");
        CHECK(json_next_value(out, "changes") != NULL, "restore: changes listed (not only for dry_run)");
        CHECK(json_next_value(out, "stats") != NULL, "restore: stats");
        g_ctx = NULL;
    }
    jvs_free(out);
    path_join(p, sizeof p, main_dir, "a.txt");
    CHECK(read_file(p, buf, sizeof buf) > 0 && strcmp(buf, "alpha\n") == 0, "restore rewrote a.txt");
    path_join(p, sizeof p, main_dir, "new.txt");
    CHECK(!exists(p), "restore removed new.txt");
    path_join(p, sizeof p, main_dir, "c.txt");
    CHECK(!exists(p), "restore removed c.txt");
    path_join(p, sizeof p, main_dir, ".READY");
    CHECK(!exists(p), "restore never copies .READY");
    path_join(p, sizeof p, main_dir, "link");
    CHECK(read_file(p, buf, sizeof buf) > 0 && strcmp(buf, "alpha\n") == 0, "symlink restored");

    out = SENTINEL;
    st = jvs_snapshot(repo, NULL, NULL, NULL, &out);
    expect_err("snapshot while detached", st, out, JVS_E_CONFLICT, "E_DETACHED");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_restore(repo, "{}", NULL, NULL, &out);
    expect_err("restore without ref", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_restore(repo, "{\"ref\":\"HEAD\"}", NULL, NULL, &out);
    if (expect_ok("restore HEAD (latest)", st, out, "restore")) {
        g_ctx = out;
        CHECK(has_str(out, "snapshot_id", id2), "restore HEAD = latest");
        CHECK(json_has(out, "detached", "false"), "restore HEAD: attached");
        g_ctx = NULL;
    }
    jvs_free(out);
    path_join(p, sizeof p, main_dir, "c.txt");
    CHECK(exists(p), "restore HEAD brought c.txt back");

    /* ---- verify ------------------------------------------------------------------------ */
    memset(&cb, 0, sizeof cb);
    out = SENTINEL;
    st = jvs_verify(repo, NULL, on_event, &cb, &out);
    if (expect_ok("verify (all)", st, out, "verify")) {
        g_ctx = out;
        CHECK(json_has(out, "ok", "true"), "verify ok");
        CHECK(json_count(out, "snapshot_id") == 2, "verify: 2 results");
        CHECK(!json_has(out, "tamper_detected", "true"), "no tamper");
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(cb.bad == 0, "verify events are progress documents");
    fmt(opts, sizeof opts, "{\"ref\":\"%s\",\"payload\":true}", id1);
    out = SENTINEL;
    st = jvs_verify(repo, opts, NULL, NULL, &out);
    if (expect_ok("verify one", st, out, "verify")) {
        g_ctx = out;
        CHECK(json_has(out, "ok", "true"), "verify one ok");
        CHECK(json_has(out, "payload_hash_valid", "true"), "payload hash valid");
        CHECK(json_has(out, "checksum_valid", "true"), "checksum valid");
        CHECK(json_count(out, "snapshot_id") == 1, "verify one: 1 result");
        g_ctx = NULL;
    }
    jvs_free(out);
    out = SENTINEL;
    st = jvs_verify(repo, "{\"ref\":\"no-such-ref\"}", NULL, NULL, &out);
    expect_err("verify unknown ref", st, out, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND");
    jvs_free(out);

    /* ---- worktrees --------------------------------------------------------------------- */
    memset(&cb, 0, sizeof cb);
    out = SENTINEL;
    st = jvs_worktree_create(repo, "{\"name\":\"feat\"}", on_event, &cb, &out);
    if (expect_ok("worktree_create feat", st, out, "worktree")) {
        g_ctx = out;
        CHECK(has_str(out, "name", "feat"), "create: name");
        CHECK(json_str(out, "path", wt_path, sizeof wt_path) && ends_with(wt_path, "/worktrees/feat"), "create: path");
        CHECK(wt_path[0] == '/', "create: path absolute");
        CHECK(json_has(out, "detached", "false"), "create: not detached");
        CHECK(!json_has(out, "head_snapshot_id", "\""), "plain create: no head");
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(exists(wt_path) && count_dir(wt_path) == 0, "create: empty payload dir");
    out = SENTINEL;
    st = jvs_worktree_create(repo, "{\"name\":\"feat\"}", NULL, NULL, &out);
    expect_err("worktree_create twice", st, out, JVS_E_EXISTS, "E_WORKTREE_EXISTS");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_create(repo, "{\"name\":\"../evil\"}", NULL, NULL, &out);
    expect_err("worktree_create ../evil", st, out, JVS_E_INVALID_ARG, "E_NAME_INVALID");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_create(repo, "{}", NULL, NULL, &out);
    expect_err("worktree_create without name", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);

    fmt(opts, sizeof opts, "{\"name\":\"fromsnap\",\"from\":\"%s\"}", id1);
    out = SENTINEL;
    st = jvs_worktree_create(repo, opts, NULL, NULL, &out);
    if (expect_ok("worktree_create --from", st, out, "worktree")) {
        g_ctx = out;
        CHECK(has_str(out, "base_snapshot_id", id1), "create from: base");
        CHECK(!json_has(out, "latest_snapshot_id", "\""), "create from: no latest yet");
        CHECK(json_has(out, "detached", "false"), "create from: not detached");
        g_ctx = NULL;
    }
    jvs_free(out);
    fmt(p, sizeof p, "%s/worktrees/fromsnap/a.txt", g_root);
    CHECK(read_file(p, buf, sizeof buf) > 0 && strcmp(buf, "alpha\n") == 0, "create from: files materialised");
    fmt(p, sizeof p, "%s/worktrees/fromsnap/.READY", g_root);
    CHECK(!exists(p), "create from: no .READY in payload");

    memset(&cb, 0, sizeof cb);
    out = SENTINEL;
    st = jvs_worktree_fork(repo, NULL, on_event, &cb, &out);
    if (expect_ok("worktree_fork (defaults)", st, out, "worktree")) {
        g_ctx = out;
        CHECK(json_str(out, "name", fork_name, sizeof fork_name) && strncmp(fork_name, "fork-", 5) == 0,
              "fork default name fork-*");
        CHECK(has_str(out, "base_snapshot_id", id2) && has_str(out, "head_snapshot_id", id2) &&
                  has_str(out, "latest_snapshot_id", id2),
              "fork from head: base = head = latest");
        g_ctx = NULL;
    }
    jvs_free(out);
    fmt(opts, sizeof opts, "{\"from\":\"%s\",\"name\":\"forked\"}", id1);
    out = SENTINEL;
    st = jvs_worktree_fork(repo, opts, NULL, NULL, &out);
    expect_ok("worktree_fork from id1", st, out, "worktree");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_fork(repo, "{\"from\":\"no-such-ref\",\"name\":\"x1\"}", NULL, NULL, &out);
    expect_err("worktree_fork unknown ref", st, out, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_worktree_list(repo, NULL, &out);
    if (expect_ok("worktree_list", st, out, "worktree_list")) {
        g_ctx = out;
        CHECK(has_str(out, "name", "main") && has_str(out, "name", "feat") && has_str(out, "name", "forked") &&
                  has_str(out, "name", "fromsnap") && has_str(out, "name", fork_name),
              "list: every worktree");
        CHECK(json_count(out, "name") == 5, "list: 5 worktrees");
        g_ctx = NULL;
    }
    jvs_free(out);

    out = SENTINEL;
    st = jvs_worktree_path(repo, "{\"name\":\"feat\"}", &out);
    if (expect_ok("worktree_path feat", st, out, "worktree_path")) {
        g_ctx = out;
        CHECK(has_str(out, "path", wt_path), "path == create's path");
        g_ctx = NULL;
    }
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_path(repo, NULL, &out);
    if (expect_ok("worktree_path (handle's)", st, out, "worktree_path")) {
        g_ctx = out;
        CHECK(json_str(out, "path", buf, sizeof buf) && ends_with(buf, "/main"), "default path is main's");
        g_ctx = NULL;
    }
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_path(repo, "{\"name\":\"nope\"}", &out);
    expect_err("worktree_path nope", st, out, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND");
    jvs_free(out);

    /* a handle opened inside a worktree is bound to it */
    fmt(p, sizeof p, "%s/worktrees/forked", g_root);
    out = SENTINEL;
    st = jvs_repo_open(p, NULL, &repo2, &out);
    if (expect_ok("repo_open(worktrees/forked)", st, out, "repo")) {
        g_ctx = out;
        CHECK(has_str(out, "worktree", "forked"), "open: bound to forked");
        g_ctx = NULL;
        jvs_free(out);
        out = SENTINEL;
        st = jvs_snapshot(repo2, "{\"note\":\"on forked\"}", NULL, NULL, &out);
        if (expect_ok("snapshot via forked handle", st, out, "snapshot")) {
            g_ctx = out;
            CHECK(has_str(out, "worktree_name", "forked"), "snapshot lands in forked");
            CHECK(has_str(out, "parent_id", id1), "fork's first snapshot parent = fork point");
            g_ctx = NULL;
        }
    }
    jvs_free(out);
    jvs_repo_close(repo2);
    repo2 = NULL;
    out = SENTINEL;
    st = jvs_repo_open(g_root, "{\"worktree\":\"feat\"}", &repo2, &out);
    if (expect_ok("repo_open({worktree: feat})", st, out, "repo")) CHECK(has_str(out, "worktree", "feat"), "open opt worktree");
    jvs_free(out);
    jvs_repo_close(repo2);
    repo2 = NULL;

    out = SENTINEL;
    st = jvs_worktree_rename(repo, "{\"name\":\"feat\",\"new_name\":\"feat2\"}", &out);
    if (expect_ok("worktree_rename", st, out, "worktree")) {
        g_ctx = out;
        CHECK(has_str(out, "name", "feat2"), "rename: new name");
        CHECK(json_str(out, "path", buf, sizeof buf) && ends_with(buf, "/worktrees/feat2"), "rename: new path");
        g_ctx = NULL;
    }
    jvs_free(out);
    CHECK(!exists(wt_path), "rename: old payload gone");
    out = SENTINEL;
    st = jvs_worktree_rename(repo, "{\"name\":\"main\",\"new_name\":\"other\"}", &out);
    expect_err("rename main", st, out, JVS_E_CONFLICT, "E_WORKTREE_MAIN");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_rename(repo, "{\"name\":\"feat2\",\"new_name\":\"forked\"}", &out);
    expect_err("rename onto existing", st, out, JVS_E_EXISTS, "E_WORKTREE_EXISTS");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_rename(repo, "{\"name\":\"feat2\"}", &out);
    expect_err("rename without new_name", st, out, JVS_E_INVALID_ARG, "E_OPTION_INVALID");
    jvs_free(out);

    out = SENTINEL;
    st = jvs_worktree_remove(repo, "{\"name\":\"feat2\"}", &out);
    if (expect_ok("worktree_remove", st, out, "worktree_remove")) {
        g_ctx = out;
        CHECK(has_str(out, "name", "feat2") && json_has(out, "removed", "true"), "remove: removed");
        g_ctx = NULL;
    }
    jvs_free(out);
    fmt(p, sizeof p, "%s/worktrees/feat2", g_root);
    CHECK(!exists(p), "remove: payload gone");
    out = SENTINEL;
    st = jvs_worktree_remove(repo, "{\"name\":\"main\",\"force\":true}", &out);
    expect_err("remove main", st, out, JVS_E_CONFLICT, "E_WORKTREE_MAIN");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_worktree_remove(repo, "{\"name\":\"feat2\"}", &out);
    expect_err("remove twice", st, out, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND");
    jvs_free(out);

    /* ---- jvs_call ------------------------------------------------------------------------ */
    out = SENTINEL;
    st = jvs_call(repo, "history", "{\"limit\":1}", NULL, NULL, &out);
    if (expect_ok("call history", st, out, "history"))
        CHECK(json_count(out, "snapshot_id") == 1, "call history: same as jvs_history");
    jvs_free(out);
    out = SENTINEL;
    st = jvs_call(repo, "worktree_list", NULL, NULL, NULL, &out);
    expect_ok("call worktree_list", st, out, "worktree_list");
    jvs_free(out);
    memset(&cb, 0, sizeof cb);
    cb.op = "verify";
    out = SENTINEL;
    st = jvs_call(repo, "verify", "{\"all\":true,\"payload\":false}", on_event, &cb, &out);
    expect_ok("call verify with callback", st, out, "verify");
    jvs_free(out);
    CHECK(cb.bad == 0, "call verify events");
    out = SENTINEL;
    st = jvs_call(repo, "no_such_method", "{}", NULL, NULL, &out);
    expect_err("call unknown method", st, out, JVS_E_UNSUPPORTED, NULL);
    jvs_free(out);
    out = SENTINEL;
    st = jvs_call(repo, "", NULL, NULL, NULL, &out);
    expect_err("call empty method", st, out, JVS_E_UNSUPPORTED, NULL);
    jvs_free(out);

    /* ---- locks: hold the worktree lock ourselves (flock on its own file description) ----- */
    fmt(p, sizeof p, "%s/.jvs/locks", g_root);
    mkdir(p, 0755);
    fmt(p, sizeof p, "%s/.jvs/locks/wt-main.lock", g_root);
    {
        int fd = open(p, O_RDWR | O_CREAT, 0644);
        CHECK(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0, "took wt-main.lock");
        path_join(p, sizeof p, main_dir, "e.txt");
        write_file(p, "echo\n");
        out = SENTINEL;
        st = jvs_snapshot(repo, "{\"lock_timeout_ms\":0}", NULL, NULL, &out);
        expect_err("snapshot while locked (timeout 0)", st, out, JVS_E_LOCKED, "E_LOCKED");
        jvs_free(out);
        out = SENTINEL;
        st = jvs_snapshot(repo, "{\"lock_timeout_ms\":150}", NULL, NULL, &out);
        expect_err("snapshot while locked (timeout 150)", st, out, JVS_E_LOCKED, "E_LOCKED");
        jvs_free(out);
        out = SENTINEL;
        st = jvs_history(repo, NULL, &out); /* readers do not take the writer lock */
        expect_ok("history while locked", st, out, "history");
        jvs_free(out);
        if (fd >= 0) close(fd);
        out = SENTINEL;
        st = jvs_snapshot(repo, "{\"lock_timeout_ms\":0}", NULL, NULL, &out);
        expect_ok("snapshot after unlock", st, out, "snapshot");
        jvs_free(out);
    }

    /* ---- two threads, one handle ---------------------------------------------------------- */
    {
        thread_job jobs[2];
        pthread_t th[2];
        char dir1[900], dir2[900];
        int t1 = 0, t2 = 0;
        out = SENTINEL;
        st = jvs_worktree_create(repo, "{\"name\":\"t1\"}", NULL, NULL, &out);
        expect_ok("create t1", st, out, "worktree");
        jvs_free(out);
        out = SENTINEL;
        st = jvs_worktree_create(repo, "{\"name\":\"t2\"}", NULL, NULL, &out);
        expect_ok("create t2", st, out, "worktree");
        jvs_free(out);
        fmt(dir1, sizeof dir1, "%s/worktrees/t1", g_root);
        fmt(dir2, sizeof dir2, "%s/worktrees/t2", g_root);
        memset(jobs, 0, sizeof jobs);
        jobs[0].repo = repo; jobs[0].worktree = "t1"; jobs[0].dir = dir1; jobs[0].tag = "a"; jobs[0].n = 6;
        jobs[1].repo = repo; jobs[1].worktree = "t2"; jobs[1].dir = dir2; jobs[1].tag = "b"; jobs[1].n = 6;
        for (i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, snapshot_thread, &jobs[i]) == 0, "pthread_create");
        for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
        CHECK(jobs[0].ok == 6, "thread t1: 6 snapshots");
        CHECK(jobs[1].ok == 6, "thread t2: 6 snapshots");
        history_count(repo, "{\"worktree\":\"t1\"}", &t1, NULL, 0);
        history_count(repo, "{\"worktree\":\"t2\"}", &t2, NULL, 0);
        CHECK(t1 == 6 && t2 == 6, "each worktree has its own 6-snapshot line");

        /* same worktree from two threads: serialised by the lock, both succeed */
        jobs[0].worktree = "t2"; jobs[0].dir = dir2; jobs[0].tag = "c"; jobs[0].n = 3; jobs[0].ok = 0;
        jobs[1].n = 3; jobs[1].ok = 0;
        for (i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, snapshot_thread, &jobs[i]) == 0, "pthread_create");
        for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
        CHECK(jobs[0].ok == 3 && jobs[1].ok == 3, "same worktree, two threads: all snapshots succeed");
        history_count(repo, "{\"worktree\":\"t2\"}", &t2, NULL, 0);
        CHECK(t2 == 12, "t2 lineage has 12 snapshots (linear, no lost update)");
    }

    out = SENTINEL;
    st = jvs_verify(repo, "{\"all\":true}", NULL, NULL, &out);
    if (expect_ok("final verify", st, out, "verify")) CHECK(json_has(out, "ok", "true"), "final verify ok");
    jvs_free(out);

    jvs_repo_close(sub_repo);
    jvs_repo_close(repo);

    if (!getenv("JVS_ABI_KEEP")) nftw(g_base, rm_cb, 32, FTW_DEPTH | FTW_PHYS);
    else printf("kept %s\n", g_base);
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
