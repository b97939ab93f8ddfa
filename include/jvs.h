/*
 * jvs.h -- the frozen C ABI of libjvs (ABI 1).
 *
 * Workspace versioning: snapshot, restore, fork, tag and verify a real directory.
 *
 * Conventions (see docs/API_REFERENCE.md for every option and result field):
 *  - Every operation has the shape
 *        jvs_status jvs_<op>(jvs_repo *repo, const char *opts_json, [cb, user_data,] char **out_json)
 *    opts_json is a UTF-8 JSON object (NULL or "" means all defaults); unknown keys are rejected.
 *  - *out_json is set to NULL on entry. On success it receives the result document; on failure
 *    (non-zero return) it receives an error document {"schema":1,"kind":"error","error":{...}}
 *    with a stable string code "E_...", a message and a hint. Free it with jvs_free() only.
 *    Only JVS_E_NOMEM may leave it NULL.
 *  - A `const char *` return value is static and is never freed.
 *  - Every document is a JSON object carrying "schema" (an integer) and "kind".
 *
 * Thread safety: every function may be called from any thread. Calls on one handle may run
 * concurrently; writers to the same worktree serialise on a lock file inside the repository
 * (waiting up to "lock_timeout_ms", then failing with E_LOCKED), writers to different worktrees
 * run in parallel, in one process or many. jvs_repo_interrupt() is one lock-free atomic store:
 * it may be called from any thread or a signal handler, and cancels the calls running on that
 * handle at that moment. jvs_repo_close() must not race with a call still running on the same
 * handle. Callbacks run synchronously on the calling thread, only during the call, are never
 * retained, and must not call into libjvs except jvs_repo_interrupt(). No global init is needed.
 *
 * ABI rule: this header only grows. Nothing published here is ever changed or removed.
 */
#ifndef JVS_H
#define JVS_H

#ifndef JVS_CDEF /* cffi/pycparser pass: skip system headers */
#include <stddef.h>
#include <stdint.h>
#endif

#define JVS_VERSION_MAJOR 1
#define JVS_VERSION_MINOR 0
#define JVS_VERSION_PATCH 0
#define JVS_VERSION_STRING "1.0.0"
#define JVS_VERSION_NUMBER 1000000 /* MAJOR*1000000 + MINOR*1000 + PATCH */
#define JVS_ABI_VERSION 1          /* == SONAME major; never changes in 1.x */
#define JVS_SCHEMA_VERSION 1       /* the "schema" of every document this library emits */

#if defined(JVS_CDEF)
#define JVS_API
#define JVS_CALL
#else
#if defined(JVS_STATIC)
#define JVS_API
#elif defined(_WIN32)
#if defined(JVS_BUILDING)
#define JVS_API __declspec(dllexport)
#else
#define JVS_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define JVS_API __attribute__((visibility("default")))
#else
#define JVS_API
#endif
#if defined(_WIN32)
#define JVS_CALL __cdecl
#else
#define JVS_CALL
#endif
#endif

#if defined(__cplusplus) && !defined(JVS_CDEF)
#define JVS_NOEXCEPT noexcept
extern "C" {
#else
#define JVS_NOEXCEPT
#endif

/* Status codes: append-only. The error document carries the name ("status_name") and a finer
 * stable string code ("code", e.g. "E_REF_NOT_FOUND"). */
typedef int32_t jvs_status;
#define JVS_OK 0
#define JVS_E_ERROR -1
#define JVS_E_INVALID_ARG -2
#define JVS_E_NOT_FOUND -3
#define JVS_E_EXISTS -4
#define JVS_E_LOCKED -5
#define JVS_E_CONFLICT -6
#define JVS_E_CORRUPT -7
#define JVS_E_IO -8
#define JVS_E_CANCELLED -9
#define JVS_E_UNSUPPORTED -10
#define JVS_E_NOMEM -11 /* out_json may stay NULL */
#define JVS_E_INTERNAL -12

/* An open repository, bound to one worktree (the one containing the opened path, else "main"). */
typedef struct jvs_repo jvs_repo;

/* Progress/cancel callback. event_json is borrowed for the duration of the call only.
 * Return 0 to continue, non-zero to cancel: the operation fails with JVS_E_CANCELLED. A cancelled
 * snapshot, fork or worktree create publishes nothing; a cancelled restore may have rewritten some
 * files (each one whole) but does not move the worktree's head. */
typedef int32_t(JVS_CALL *jvs_event_cb)(const char *event_json, void *user_data);

/* ---- library ---------------------------------------------------------------------------- */
JVS_API uint32_t JVS_CALL jvs_abi_version(void) JVS_NOEXCEPT;
JVS_API uint32_t JVS_CALL jvs_version_number(void) JVS_NOEXCEPT;
JVS_API const char *JVS_CALL jvs_version_string(void) JVS_NOEXCEPT;           /* static */
JVS_API const char *JVS_CALL jvs_status_name(jvs_status status) JVS_NOEXCEPT; /* static */
JVS_API jvs_status JVS_CALL jvs_build_info(char **out_json) JVS_NOEXCEPT;
JVS_API void JVS_CALL jvs_free(void *ptr) JVS_NOEXCEPT; /* NULL is a no-op */

/* ---- handle lifecycle ------------------------------------------------------------------- */
/* Create a repository at `path` (created if missing; refused if it already holds one). */
JVS_API jvs_status JVS_CALL jvs_repo_init(const char *path, const char *opts_json, jvs_repo **out_repo,
                                          char **out_json) JVS_NOEXCEPT;
/* Open the repository containing `path` (any path inside it). */
JVS_API jvs_status JVS_CALL jvs_repo_open(const char *path, const char *opts_json, jvs_repo **out_repo,
                                          char **out_json) JVS_NOEXCEPT;
JVS_API void JVS_CALL jvs_repo_close(jvs_repo *repo) JVS_NOEXCEPT;     /* NULL is a no-op */
JVS_API void JVS_CALL jvs_repo_interrupt(jvs_repo *repo) JVS_NOEXCEPT; /* any thread, signal-safe */

/* ---- operations ------------------------------------------------------------------------- */
JVS_API jvs_status JVS_CALL jvs_info(jvs_repo *repo, const char *opts_json, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_snapshot(jvs_repo *repo, const char *opts_json, jvs_event_cb cb, void *user_data,
                                         char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_restore(jvs_repo *repo, const char *opts_json, jvs_event_cb cb, void *user_data,
                                        char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_history(jvs_repo *repo, const char *opts_json, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_resolve(jvs_repo *repo, const char *opts_json, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_verify(jvs_repo *repo, const char *opts_json, jvs_event_cb cb, void *user_data,
                                       char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_create(jvs_repo *repo, const char *opts_json, jvs_event_cb cb,
                                                void *user_data, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_fork(jvs_repo *repo, const char *opts_json, jvs_event_cb cb,
                                              void *user_data, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_list(jvs_repo *repo, const char *opts_json, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_path(jvs_repo *repo, const char *opts_json, char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_rename(jvs_repo *repo, const char *opts_json,
                                                char **out_json) JVS_NOEXCEPT;
JVS_API jvs_status JVS_CALL jvs_worktree_remove(jvs_repo *repo, const char *opts_json,
                                                char **out_json) JVS_NOEXCEPT;

/* Generic entry point: method is an operation name ("snapshot", "worktree_fork", ...), the same
 * names jvs_build_info lists. New operations ship here first. */
JVS_API jvs_status JVS_CALL jvs_call(jvs_repo *repo, const char *method, const char *params_json, jvs_event_cb cb,
                                     void *user_data, char **out_json) JVS_NOEXCEPT;

#if defined(__cplusplus) && !defined(JVS_CDEF)
}
#endif
#endif /* JVS_H */
