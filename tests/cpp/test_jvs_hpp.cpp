// Tests of include/jvs.hpp, the header-only C++17 wrapper, against the real libjvs.so.1 on real
// files (meson test 'cpp-wrapper'; compiled as C++17 with -Wall -Wextra -Wpedantic -Werror).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "jvs.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp directory, removed with everything in it.
struct temp_dir {
    fs::path path;
    temp_dir() {
        std::random_device rd;
        path = fs::temp_directory_path() / ("jvs-hpp-" + std::to_string(rd()) + "-" + std::to_string(rd()));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_file(const fs::path &p, const std::string &content) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
}

std::string read_file(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// A string member of a document, read with the header's own reader (also exercising it).
std::string str(const std::string &doc, std::string_view key) {
    return jvs::detail::json_reader(jvs::detail::json_reader(doc).member(key)).string_value();
}

std::string snapshot_id(const std::string &snapshot_doc) {
    const std::string_view desc = jvs::detail::json_reader(snapshot_doc).member("snapshot");
    return jvs::detail::json_reader(jvs::detail::json_reader(desc).member("snapshot_id")).string_value();
}

// Runs `f`, expecting a jvs::error, and returns it.
template <class F> jvs::error expect_error(F &&f) {
    try {
        f();
    } catch (const jvs::error &e) {
        return e;
    }
    FAIL("no jvs::error was thrown");
    return jvs::error(JVS_E_ERROR, "E_NONE", "unreachable");
}

struct user_abort {
    int value;
};

// A fresh repository in a temporary directory, its main worktree open (TEST_CASE_FIXTURE).
struct fresh_repo {
    temp_dir tmp;
    jvs::repo r = jvs::repo::init((tmp.path / "r").string());
    fs::path main = str(r.document(), "worktree_path");
};

} // namespace

TEST_CASE("library queries") {
    CHECK(jvs::abi_version() == JVS_ABI_VERSION);
    CHECK(jvs::version() == JVS_VERSION_STRING);
    const std::string info = jvs::build_info();
    CHECK(str(info, "kind") == "build_info");
    CHECK(info.find("\"worktree_fork\"") != std::string::npos);
}

TEST_CASE("init, open, snapshot, history, restore") {
    temp_dir tmp;
    const fs::path root = tmp.path / "repo";
    jvs::repo created = jvs::repo::init(root.string());
    REQUIRE(created);
    CHECK(str(created.document(), "kind") == "repo");
    const fs::path main = str(created.document(), "worktree_path");
    CHECK(fs::equivalent(main, root / "main"));

    write_file(main / "scene.txt", "v1");
    std::vector<std::string> events;
    const std::string first = created.snapshot(R"({"note":"first","tags":["v1"]})",
                                               [&](std::string_view ev) { events.emplace_back(ev); });
    CHECK(str(first, "kind") == "snapshot");
    REQUIRE(!events.empty());
    CHECK(str(events.front(), "kind") == "progress");
    CHECK(str(events.front(), "op") == "snapshot");

    // Any path inside the worktree opens it.
    fs::create_directories(main / "sub" / "dir");
    jvs::repo r = jvs::repo::open((main / "sub" / "dir").string());
    CHECK(str(r.document(), "worktree") == "main");

    write_file(main / "scene.txt", "v2");
    const std::string second = r.snapshot(R"({"note":"second"})");
    const std::string history = r.history(R"({"limit":5})");
    CHECK(history.find(snapshot_id(first)) != std::string::npos);
    CHECK(history.find(snapshot_id(second)) != std::string::npos);

    const std::string restored = r.restore(R"({"ref":"v1"})");
    CHECK(str(restored, "snapshot_id") == snapshot_id(first));
    CHECK(read_file(main / "scene.txt") == "v1");
    CHECK(str(r.resolve(R"({"ref":"HEAD"})"), "matched_by") == "head");
    CHECK(r.verify().find("\"ok\":true") != std::string::npos);
    CHECK(str(r.info(), "kind") == "info");
}

TEST_CASE_FIXTURE(fresh_repo, "a non-ASCII note and file name round-trip") {
    const std::string name = "n\xC3\xADvel-\xE6\x97\xA5\xE6\x9C\xAC.txt"; // "nível-日本.txt"
    const std::string note = "caf\xC3\xA9 \xF0\x9F\x8E\xAE \"quoted\"\n\\ tab\t";
    write_file(main / name, "data");
    const std::string doc = r.snapshot("{\"note\":" + jvs::quote(note) + "}");
    const std::string_view desc = jvs::detail::json_reader(doc).member("snapshot");
    CHECK(jvs::detail::json_reader(jvs::detail::json_reader(desc).member("note")).string_value() == note);
    fs::remove(main / name);
    r.restore("{\"ref\":\"HEAD\"}");
    CHECK(read_file(main / name) == "data");
}

TEST_CASE_FIXTURE(fresh_repo, "errors carry status, code, hint, op and details") {
    jvs::error exists = expect_error([&] { jvs::repo::init((tmp.path / "r").string()); });
    CHECK(exists.status() == JVS_E_EXISTS);
    CHECK(exists.status_name() == "JVS_E_EXISTS");
    CHECK(exists.code() == "E_REPO_EXISTS");
    CHECK(exists.op() == "repo_init");
    CHECK(!exists.hint().empty());
    CHECK(std::string(exists.what()).find("[E_REPO_EXISTS]") != std::string::npos);
    CHECK(str(exists.document(), "kind") == "error");

    jvs::error missing = expect_error([&] { r.resolve(R"({"ref":"no-such-snapshot"})"); });
    CHECK(missing.status() == JVS_E_NOT_FOUND);
    CHECK(missing.code() == "E_REF_NOT_FOUND");
    CHECK(missing.details().front() == '{');

    jvs::error unknown = expect_error([&] { r.call("no_such_method"); });
    CHECK(unknown.code() == "E_METHOD_UNKNOWN");
    CHECK(str(unknown.details(), "method") == "no_such_method");

    jvs::error bad_option = expect_error([&] { r.history(R"({"bogus":1})"); });
    CHECK(bad_option.code() == "E_OPTION_UNKNOWN");
    CHECK(str(bad_option.details(), "key") == "bogus");

    jvs::error not_repo = expect_error([&] { jvs::repo::open(tmp.path.string()); });
    CHECK(not_repo.code() == "E_NOT_REPO");
}

TEST_CASE_FIXTURE(fresh_repo, "a throwing progress function cancels and its exception is re-thrown") {
    write_file(main / "a.txt", "a");
    bool caught = false;
    try {
        r.snapshot(R"({"note":"never"})", [](std::string_view) { throw user_abort{42}; });
    } catch (const user_abort &a) {
        caught = a.value == 42;
    }
    CHECK(caught);
    CHECK(r.history().find("never") == std::string::npos); // nothing was published
}

TEST_CASE_FIXTURE(fresh_repo, "interrupt cancels the running call") {
    for (int i = 0; i < 20; ++i) write_file(main / ("f" + std::to_string(i)), std::string(1000, 'x'));
    // interrupt() is the one call a progress function may make.
    jvs::error cancelled = expect_error([&] { r.snapshot("", [&](std::string_view) { r.interrupt(); }); });
    CHECK(cancelled.status() == JVS_E_CANCELLED);
    CHECK(cancelled.code() == "E_CANCELLED");
    CHECK(str(r.snapshot(R"({"note":"after"})"), "kind") == "snapshot"); // later calls are not affected
}

TEST_CASE_FIXTURE(fresh_repo, "a progress function must not call into libjvs") {
    jvs::error reentrant = expect_error([&] { r.snapshot("", [&](std::string_view) { r.info(); }); });
    CHECK(reentrant.code() == "E_REENTRANT");
}

TEST_CASE_FIXTURE(fresh_repo, "worktrees: fork, list, path, rename, remove, create") {
    write_file(main / "a.txt", "a");
    r.snapshot(R"({"note":"base"})");
    const std::string forked = r.worktree_fork(R"({"name":"exp"})", [](std::string_view) {});
    const std::string_view wt = jvs::detail::json_reader(forked).member("worktree");
    const fs::path exp_path = jvs::detail::json_reader(jvs::detail::json_reader(wt).member("path")).string_value();
    CHECK(read_file(exp_path / "a.txt") == "a");
    CHECK(r.worktree_list().find("\"exp\"") != std::string::npos);
    CHECK(str(r.worktree_path(R"({"name":"exp"})"), "path") == exp_path.string());
    r.worktree_rename(R"({"name":"exp","new_name":"exp2"})");
    r.worktree_remove(R"({"name":"exp2"})");
    CHECK(r.worktree_list().find("exp2") == std::string::npos);
    r.worktree_create(R"({"name":"empty"})");
    CHECK(r.worktree_list().find("\"empty\"") != std::string::npos);
    CHECK(r.call("diff", R"({"stat":true})").find("\"totals\"") != std::string::npos);
}

TEST_CASE("handles are move-only and close once") {
    temp_dir tmp;
    jvs::repo a = jvs::repo::init((tmp.path / "r").string());
    jvs::repo b = std::move(a);
    CHECK(!a); // NOLINT(bugprone-use-after-move): the moved-from handle is empty by contract
    CHECK(b);
    jvs::error null_handle = expect_error([&] { a.info(); });
    CHECK(null_handle.code() == "E_ARG_NULL");
    a = std::move(b);
    CHECK(a);
    CHECK(str(a.info(), "kind") == "info");
    a.close();
    CHECK(!a);
}

TEST_CASE_FIXTURE(fresh_repo, "one repo from many threads") {
    write_file(main / "a.txt", "a");
    r.snapshot(R"({"note":"base"})");
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            const std::string doc = r.worktree_fork("{\"name\":\"t" + std::to_string(t) + "\"}");
            const std::string_view wt = jvs::detail::json_reader(doc).member("worktree");
            const std::string path = jvs::detail::json_reader(jvs::detail::json_reader(wt).member("path")).string_value();
            jvs::repo mine = jvs::repo::open(path);
            write_file(fs::path(path) / "mine.txt", std::to_string(t));
            if (str(mine.snapshot("{\"note\":\"thread " + std::to_string(t) + "\"}"), "kind") == "snapshot") ++ok;
        });
    }
    for (auto &th : threads) th.join();
    CHECK(ok == 8);
    CHECK(r.history(R"({"all":true,"grep":"thread "})").find("thread 7") != std::string::npos);
}

TEST_CASE("quote escapes what JSON requires") {
    CHECK(jvs::quote("plain") == "\"plain\"");
    CHECK(jvs::quote("a\"b\\c\nd\x01") == "\"a\\\"b\\\\c\\nd\\u0001\"");
    const std::string s = "\xE6\x97\xA5 \t\r";
    CHECK(jvs::detail::json_reader(jvs::quote(s)).string_value() == s);
    CHECK(jvs::detail::json_reader(R"("\u00e9\ud83c\udfae")").string_value() == "\xC3\xA9\xF0\x9F\x8E\xAE");
}
