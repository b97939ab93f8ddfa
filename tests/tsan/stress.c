/*
 * stress.c -- hammers the C ABI from 8 worker threads plus a gc and a verify thread, for
 * ThreadSanitizer (scripts/sanitizers.sh tsan).
 *
 * One repository, four worktrees w0..w3, two threads per worktree (so writers contend on the
 * worktree lock) and half the threads sharing one handle, the other half each opening its own.
 * Each thread loops: write a file, snapshot, history, every 3rd round restore HEAD~1 then HEAD,
 * every 4th round fork a new worktree and remove it again (its snapshots become garbage). Meanwhile
 * one thread loops gc plan + gc run (jvs_call) and one loops verify --all. Lock timeouts and races
 * between two writers of one worktree may fail an operation with a jvs error; JVS_E_INTERNAL, a
 * missing out_json, a gc run refused for any reason but E_GC_PLAN_MISMATCH, a verify --all that is
 * not ok (during or after the run) count as failures. TSan itself reports any data race.
 * Usage: jvs_tsan_stress <empty-or-missing-dir> [rounds]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jvs.h"

#define NTHREADS 8
#define NWT 4

static const char *g_root;
static int g_rounds = 6;
static jvs_repo *g_shared;
static int g_failures;
static int g_workers_done;
static int g_gc_runs, g_verify_passes;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static int workers_done(void) {
    int d;
    pthread_mutex_lock(&g_mu);
    d = g_workers_done;
    pthread_mutex_unlock(&g_mu);
    return d;
}

static void bad(const char *what, jvs_status st, const char *out) {
    pthread_mutex_lock(&g_mu);
    g_failures++;
    fprintf(stderr, "FAIL %s: status %d %.400s\n", what, (int)st, out ? out : "(null out_json)");
    pthread_mutex_unlock(&g_mu);
}

/* Checks the ABI contract of one call; returns 1 when it succeeded. Takes the out slot's address:
 * the call fills it, so its value must be read after the call (argument order is unspecified). */
static int check(const char *what, jvs_status st, char **outp) {
    int ok = st == JVS_OK;
    if (!*outp || st == JVS_E_INTERNAL) bad(what, st, *outp);
    else if (!ok) fprintf(stderr, "note: %s failed (allowed): %.300s\n", what, *outp);
    jvs_free(*outp);
    *outp = NULL;
    return ok;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

typedef struct {
    int id;
    int snapshots;
} job;

static void *worker(void *arg) {
    job *j = (job *)arg;
    char wt[16], dir[1024], file[1100], opts[256], text[64];
    jvs_repo *repo = g_shared;
    char *out = NULL;
    int r;
    snprintf(wt, sizeof wt, "w%d", j->id % NWT);
    snprintf(dir, sizeof dir, "%s/worktrees/%s", g_root, wt);
    if (j->id % 2) {
        if (!check("open", jvs_repo_open(g_root, NULL, &repo, &out), &out)) return NULL;
        out = NULL;
    }
    for (r = 0; r < g_rounds; r++) {
        snprintf(file, sizeof file, "%s/t%d.txt", dir, j->id);
        snprintf(text, sizeof text, "thread %d round %d\n", j->id, r);
        write_file(file, text);
        snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"note\":\"t%d r%d\",\"lock_timeout_ms\":60000}", wt, j->id, r);
        out = NULL;
        if (check("snapshot", jvs_snapshot(repo, opts, NULL, NULL, &out), &out)) j->snapshots++;
        snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"limit\":5}", wt);
        out = NULL;
        check("history", jvs_history(repo, opts, &out), &out);
        if (r % 3 == 2) {
            snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"ref\":\"HEAD~1\",\"lock_timeout_ms\":60000}", wt);
            out = NULL;
            check("restore", jvs_restore(repo, opts, NULL, NULL, &out), &out);
            snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"ref\":\"HEAD\",\"lock_timeout_ms\":60000}", wt);
            out = NULL;
            check("restore HEAD", jvs_restore(repo, opts, NULL, NULL, &out), &out);
        }
        if (r % 4 == 3) {
            snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"name\":\"f%d-%d\",\"lock_timeout_ms\":60000}", wt, j->id, r);
            out = NULL;
            if (check("fork", jvs_worktree_fork(repo, opts, NULL, NULL, &out), &out)) {
                snprintf(opts, sizeof opts, "{\"worktree\":\"f%d-%d\",\"note\":\"fork\",\"lock_timeout_ms\":60000}", j->id, r);
                out = NULL;
                check("fork snapshot", jvs_snapshot(repo, opts, NULL, NULL, &out), &out);
                snprintf(opts, sizeof opts, "{\"name\":\"f%d-%d\",\"force\":true,\"lock_timeout_ms\":60000}", j->id, r);
                out = NULL;
                check("worktree_remove", jvs_worktree_remove(repo, opts, &out), &out);
            }
        }
        out = NULL;
        check("worktree_list", jvs_worktree_list(repo, NULL, &out), &out);
    }
    if (repo != g_shared) jvs_repo_close(repo);
    return NULL;
}

/* Returns the value of "key":"..." in a JSON text (enough for a plan id), or "" */
static void json_string_field(const char *text, const char *key, char *dst, size_t cap) {
    char pat[64];
    const char *p;
    size_t n = 0;
    dst[0] = 0;
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    p = text ? strstr(text, pat) : NULL;
    if (!p) {
        snprintf(pat, sizeof pat, "\"%s\":\"", key);
        p = text ? strstr(text, pat) : NULL;
    }
    if (!p) return;
    p += strlen(pat);
    while (p[n] && p[n] != '"' && n + 1 < cap) n++;
    memcpy(dst, p, n);
    dst[n] = 0;
}

/* gc plan + gc run until the workers are done; a plan the workers overtook may be refused. */
static void *gc_loop(void *arg) {
    jvs_repo *repo = NULL;
    char *out = NULL, plan_id[64], opts[160];
    (void)arg;
    if (!check("gc open", jvs_repo_open(g_root, NULL, &repo, &out), &out)) return NULL;
    while (!workers_done()) {
        jvs_status st;
        out = NULL;
        st = jvs_call(repo, "gc_plan", "{\"keep_last\":0}", NULL, NULL, &out);
        json_string_field(out, "plan_id", plan_id, sizeof plan_id);
        if (!check("gc_plan", st, &out) || !plan_id[0]) continue;
        snprintf(opts, sizeof opts, "{\"plan_id\":\"%s\",\"lock_timeout_ms\":60000}", plan_id);
        out = NULL;
        st = jvs_call(repo, "gc_run", opts, NULL, NULL, &out);
        if (st == JVS_OK) {
            pthread_mutex_lock(&g_mu);
            g_gc_runs++;
            pthread_mutex_unlock(&g_mu);
        } else if (!out || !strstr(out, "E_GC_PLAN_MISMATCH")) {
            bad("gc_run", st, out);
        }
        jvs_free(out);
    }
    jvs_repo_close(repo);
    return NULL;
}

/* verify --all until the workers are done: every pass must be ok, whatever runs beside it. */
static void *verify_loop(void *arg) {
    char *out = NULL;
    (void)arg;
    while (!workers_done()) {
        jvs_status st = jvs_verify(g_shared, "{\"all\":true}", NULL, NULL, &out);
        if (st != JVS_OK || !out || !strstr(out, "\"ok\":true")) {
            bad("concurrent verify --all", st, out);
        } else {
            pthread_mutex_lock(&g_mu);
            g_verify_passes++;
            pthread_mutex_unlock(&g_mu);
        }
        jvs_free(out);
        out = NULL;
    }
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t th[NTHREADS], gc_th, verify_th;
    job jobs[NTHREADS];
    char *out = NULL, opts[128], path[1100];
    int i, total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [rounds]\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    if (argc > 2) g_rounds = atoi(argv[2]);
    if (!check("init", jvs_repo_init(g_root, NULL, &g_shared, &out), &out)) return 1;
    snprintf(path, sizeof path, "%s/main/seed.txt", g_root);
    write_file(path, "seed\n");
    out = NULL;
    if (!check("seed snapshot", jvs_snapshot(g_shared, NULL, NULL, NULL, &out), &out)) return 1;
    for (i = 0; i < NWT; i++) {
        snprintf(opts, sizeof opts, "{\"name\":\"w%d\"}", i);
        out = NULL;
        if (!check("worktree_create", jvs_worktree_create(g_shared, opts, NULL, NULL, &out), &out)) return 1;
    }
    for (i = 0; i < NTHREADS; i++) {
        jobs[i].id = i;
        jobs[i].snapshots = 0;
        if (pthread_create(&th[i], NULL, worker, &jobs[i]) != 0) return 1;
    }
    if (pthread_create(&gc_th, NULL, gc_loop, NULL) != 0 || pthread_create(&verify_th, NULL, verify_loop, NULL) != 0)
        return 1;
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    pthread_mutex_lock(&g_mu);
    g_workers_done = 1;
    pthread_mutex_unlock(&g_mu);
    pthread_join(gc_th, NULL);
    pthread_join(verify_th, NULL);
    for (i = 0; i < NTHREADS; i++) total += jobs[i].snapshots;
    out = NULL;
    {
        jvs_status st = jvs_verify(g_shared, "{\"all\":true}", NULL, NULL, &out);
        if (st != JVS_OK) bad("final verify --all", st, out);
        jvs_free(out);
    }
    jvs_repo_close(g_shared);
    printf("tsan stress: %d threads x %d rounds, %d snapshots, beside them %d gc run(s) and %d verify pass(es), "
           "%d failure(s)\n", NTHREADS, g_rounds, total, g_gc_runs, g_verify_passes, g_failures);
    printf("%d passed, %d failed\n", g_failures ? 0 : 1, g_failures ? 1 : 0);
    return g_failures ? 1 : 0;
}
