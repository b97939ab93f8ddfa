/*
 * stress.c -- hammers the C ABI from 8 threads, for ThreadSanitizer (scripts/sanitizers.sh tsan).
 *
 * One repository, four worktrees w0..w3, two threads per worktree (so writers contend on the
 * worktree lock) and half the threads sharing one handle, the other half each opening its own.
 * Each thread loops: write a file, snapshot, history, every 3rd round restore HEAD~1, every 4th
 * round fork a new worktree. Lock timeouts and filesystem races between two writers of one
 * worktree may fail an operation with a jvs error; only JVS_E_INTERNAL, a missing out_json or a
 * final `verify --all` failure counts as a failure. TSan itself reports any data race.
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
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void bad(const char *what, jvs_status st, const char *out) {
    pthread_mutex_lock(&g_mu);
    g_failures++;
    fprintf(stderr, "FAIL %s: status %d %s\n", what, (int)st, out ? out : "(null out_json)");
    pthread_mutex_unlock(&g_mu);
}

/* Checks the ABI contract of one call; returns 1 when it succeeded. */
static int check(const char *what, jvs_status st, char *out) {
    int ok = st == JVS_OK;
    if (!out || st == JVS_E_INTERNAL) bad(what, st, out);
    jvs_free(out);
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
        if (!check("open", jvs_repo_open(g_root, NULL, &repo, &out), out)) return NULL;
        out = NULL;
    }
    for (r = 0; r < g_rounds; r++) {
        snprintf(file, sizeof file, "%s/t%d.txt", dir, j->id);
        snprintf(text, sizeof text, "thread %d round %d\n", j->id, r);
        write_file(file, text);
        snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"note\":\"t%d r%d\",\"lock_timeout_ms\":60000}", wt, j->id, r);
        out = NULL;
        if (check("snapshot", jvs_snapshot(repo, opts, NULL, NULL, &out), out)) j->snapshots++;
        snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"limit\":5}", wt);
        out = NULL;
        check("history", jvs_history(repo, opts, &out), out);
        if (r % 3 == 2) {
            snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"ref\":\"HEAD~1\",\"lock_timeout_ms\":60000}", wt);
            out = NULL;
            check("restore", jvs_restore(repo, opts, NULL, NULL, &out), out);
        }
        if (r % 4 == 3) {
            snprintf(opts, sizeof opts, "{\"worktree\":\"%s\",\"name\":\"f%d-%d\",\"lock_timeout_ms\":60000}", wt, j->id, r);
            out = NULL;
            check("fork", jvs_worktree_fork(repo, opts, NULL, NULL, &out), out);
        }
        out = NULL;
        check("worktree_list", jvs_worktree_list(repo, NULL, &out), out);
    }
    if (repo != g_shared) jvs_repo_close(repo);
    return NULL;
}

int main(int argc, char **argv) {
    pthread_t th[NTHREADS];
    job jobs[NTHREADS];
    char *out = NULL, opts[128], path[1100];
    int i, total = 0;
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [rounds]\n", argv[0]);
        return 2;
    }
    g_root = argv[1];
    if (argc > 2) g_rounds = atoi(argv[2]);
    if (!check("init", jvs_repo_init(g_root, NULL, &g_shared, &out), out)) return 1;
    snprintf(path, sizeof path, "%s/main/seed.txt", g_root);
    write_file(path, "seed\n");
    out = NULL;
    if (!check("seed snapshot", jvs_snapshot(g_shared, NULL, NULL, NULL, &out), out)) return 1;
    for (i = 0; i < NWT; i++) {
        snprintf(opts, sizeof opts, "{\"name\":\"w%d\"}", i);
        out = NULL;
        if (!check("worktree_create", jvs_worktree_create(g_shared, opts, NULL, NULL, &out), out)) return 1;
    }
    for (i = 0; i < NTHREADS; i++) {
        jobs[i].id = i;
        jobs[i].snapshots = 0;
        if (pthread_create(&th[i], NULL, worker, &jobs[i]) != 0) return 1;
    }
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < NTHREADS; i++) total += jobs[i].snapshots;
    out = NULL;
    {
        jvs_status st = jvs_verify(g_shared, "{\"all\":true}", NULL, NULL, &out);
        if (st != JVS_OK) bad("final verify --all", st, out);
        jvs_free(out);
    }
    jvs_repo_close(g_shared);
    printf("tsan stress: %d threads x %d rounds, %d snapshots, %d failure(s)\n", NTHREADS, g_rounds, total,
           g_failures);
    printf("%d passed, %d failed\n", g_failures ? 0 : 1, g_failures ? 1 : 0);
    return g_failures ? 1 : 0;
}
