// Shared helpers of the libFuzzer targets (tests/fuzz). Every target calls into the library's
// internals; the only exception allowed out of them is jvs::Error -- anything else (a
// std::out_of_range, a nlohmann::json exception, YAML::Exception...) is a bug and aborts the run.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>

#include "util/error.hpp"

namespace jvs_fuzz {

[[noreturn]] inline void die(const char *what, std::string_view detail = {}) {
    std::fprintf(stderr, "fuzz invariant violated: %s [%.*s]\n", what, static_cast<int>(detail.size()),
                 detail.data());
    std::abort();
}

#define FUZZ_CHECK(cond, detail) \
    do { \
        if (!(cond)) ::jvs_fuzz::die(#cond, detail); \
    } while (0)

// Runs f; jvs::Error is an accepted outcome (returns false), any other exception aborts.
template <class F>
bool only_jvs_errors(const char *where, F &&f) {
    try {
        f();
        return true;
    } catch (const jvs::Error &) {
        return false;
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: non-jvs exception %s: %s\n", where, typeid(e).name(), e.what());
        std::abort();
    } catch (...) {
        std::fprintf(stderr, "%s: unknown exception\n", where);
        std::abort();
    }
}

// A private copy of the Go-written fixture repository (tests/fixtures/upstream-repo-v1.tar.gz),
// extracted once per process into a fresh temp directory. Returns the repo root (".../demo").
inline std::string fixture_repo() {
    static std::string root = [] {
        const char *tgz = std::getenv("JVS_FUZZ_FIXTURE");
        std::string fixture = tgz ? tgz : JVS_FUZZ_DEFAULT_FIXTURE;
        char tmpl[] = "/tmp/jvs-fuzz-XXXXXX";
        if (!mkdtemp(tmpl)) die("mkdtemp");
        std::string cmd = "tar -xzf '" + fixture + "' -C '" + tmpl + "'";
        if (std::system(cmd.c_str()) != 0) die("cannot extract fixture", fixture);
        std::string dir = tmpl;
        // Removed at exit (best effort; a crash leaves it in /tmp).
        static std::string cleanup = "rm -rf '" + dir + "'";
        std::atexit([] { (void)std::system(cleanup.c_str()); });
        return dir + "/demo";
    }();
    return root;
}

}  // namespace jvs_fuzz
