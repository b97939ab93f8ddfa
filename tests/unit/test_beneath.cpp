// The beneath layer (lib/util/beneath): nothing reached through a Dir leaves its tree, whether the
// kernel resolves with openat2 or the layer walks component by component. Every case runs in both
// modes.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

#include "util/beneath.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"

using namespace jvs;

namespace {
std::string tempdir() {
    char tmpl[] = "/tmp/jvs-beneath-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    return tmpl;
}
void write(const std::string &p, const std::string &data) { std::ofstream(p, std::ios::binary) << data; }
std::string slurp(const std::string &p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream s;
    s << f.rdbuf();
    return s.str();
}
std::string code_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const Error &e) {
        return e.code;
    }
    return "";
}

// A tree `t` and, beside it, an `outside` directory holding a canary file.
struct Fixture {
    std::string base = tempdir();
    std::string t = base + "/t", out = base + "/outside";
    Fixture() {
        mkdirs(t + "/a/b", 0755);
        mkdirs(out + "/b", 0755);
        write(t + "/a/b/f", "inside");
        write(out + "/canary", "outside");
        write(out + "/b/f", "outside-b");
    }
    ~Fixture() { remove_tree(base); }
};

// Runs `body` once with openat2 (where the kernel has it) and once with the component walk.
void both_modes(const std::function<void()> &body) {
    for (bool walk : {false, true}) {
        CAPTURE(walk);
        beneath_force_walk(walk);
        body();
    }
    beneath_force_walk(false);
}
}  // namespace

TEST_CASE("beneath: this kernel's mode is reported, and forcing the walk switches it off") {
    MESSAGE("openat2 in use: " << beneath_uses_openat2());
    beneath_force_walk(true);
    CHECK(!beneath_uses_openat2());
    beneath_force_walk(false);
}

TEST_CASE("beneath: relative paths with '..', '.', empty components, NUL or a leading '/' are refused") {
    for (const char *bad : {"..", "../x", "a/../b", "a/..", "./a", "a/./b", "a//b", "/etc", "a/"}) {
        CAPTURE(bad);
        CHECK(code_of([&] { check_beneath_rel(bad); }) == "E_PATH_INVALID");
    }
    CHECK(code_of([&] { check_beneath_rel(std::string("a\0b", 3)); }) == "E_PATH_INVALID");
    CHECK(code_of([&] { check_beneath_rel(""); }).empty());
    CHECK(code_of([&] { check_beneath_rel(".hidden/..x/x..") ; }).empty());
    Fixture fx;
    Dir root = Dir::open_root(fx.t);
    CHECK(code_of([&] { root.open("../outside/canary", O_RDONLY); }) == "E_PATH_INVALID");
    CHECK(code_of([&] { root.lstat("a/../../outside"); }) == "E_PATH_INVALID");
}

TEST_CASE("beneath: ordinary use inside the tree") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        CHECK(root.mkdir("a/c", 0750));
        CHECK(!root.mkdir("a/c", 0700));  // already a directory: fine, mode untouched
        CHECK((root.lstat("a/c")->st_mode & 07777) == 0750);
        {
            UniqueFd f = root.open("a/c/new", O_WRONLY | O_CREAT | O_EXCL, 0600);
            CHECK(::write(f.get(), "x", 1) == 1);
        }
        CHECK(slurp(fx.t + "/a/c/new") == "x");
        struct stat st {};
        UniqueFd r = root.open_regular("a/b/f", &st);
        CHECK(st.st_size == 6);
        root.symlink("b/f", "a/link");
        CHECK(root.read_link("a/link") == "b/f");
        CHECK(S_ISLNK(root.lstat("a/link")->st_mode));
        CHECK(root.list("a") == std::vector<std::string>{"b", "c", "link"});
        root.rename("a/c/new", "a/renamed");
        CHECK(root.lstat("a/renamed"));
        CHECK(!root.lstat("a/c/new"));
        CHECK(!root.lstat("missing/deeper"));  // absent parent: absent, not an error
        CHECK(root.unlink("a/renamed"));
        CHECK(!root.unlink("a/renamed"));
        CHECK(root.read_small_file("a/b/f", 100) == std::optional<std::string>("inside"));
        CHECK(root.read_small_file("a/b/f", 3) == std::optional<std::string>("ins"));
        Dir a = root.dir("a");
        CHECK(a.lstat("b/f"));
        root.remove_tree("a");
        CHECK(!root.lstat("a"));
        root.remove_tree("a");  // absent: fine
        root.remove_tree("nothing/below");
    });
}

TEST_CASE("beneath: a symlink in the middle of a path is never followed") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        REQUIRE(::symlink(fx.out.c_str(), (fx.t + "/esc").c_str()) == 0);  // absolute, to outside
        REQUIRE(::symlink("a", (fx.t + "/rel").c_str()) == 0);             // relative, inside
        for (const char *through : {"esc", "rel"}) {
            CAPTURE(through);
            std::string p = std::string(through) + "/b/f";
            CHECK(code_of([&] { root.open(p, O_RDONLY); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.open_regular(p); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.dir(std::string(through) + "/b"); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.lstat(p); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.mkdir(std::string(through) + "/new", 0755); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.open(std::string(through) + "/new", O_WRONLY | O_CREAT, 0644); }) ==
                  "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.unlink(p); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.remove_tree(std::string(through) + "/b"); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.symlink("x", std::string(through) + "/l"); }) == "E_PATH_ESCAPE");
            CHECK(code_of([&] { root.rename("a/b/f", std::string(through) + "/moved"); }) == "E_PATH_ESCAPE");
            DirCache cache(root);
            CHECK(code_of([&] { cache.entry(p); }) == "E_PATH_ESCAPE");
        }
        // Nothing outside was touched.
        CHECK(slurp(fx.out + "/canary") == "outside");
        CHECK(slurp(fx.out + "/b/f") == "outside-b");
        CHECK(!exists_nofollow(fx.out + "/new"));
        CHECK(!exists_nofollow(fx.out + "/l"));
        CHECK(!exists_nofollow(fx.out + "/moved"));
    });
}

TEST_CASE("beneath: a symlink as the final component is the link itself, never its target") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        REQUIRE(::symlink((fx.out + "/canary").c_str(), (fx.t + "/abs").c_str()) == 0);
        REQUIRE(::symlink(fx.out.c_str(), (fx.t + "/absdir").c_str()) == 0);
        CHECK(code_of([&] { root.open("abs", O_RDONLY); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.open_regular("abs"); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.dir("absdir"); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.open("abs", O_WRONLY | O_TRUNC); }) == "E_PATH_ESCAPE");
        CHECK(!root.read_small_file("abs", 100));  // no bytes of the target
        CHECK(code_of([&] { root.dir_if_exists("absdir"); }) == "E_PATH_ESCAPE");
        CHECK(!root.dir_if_exists("a/b/f/below"));  // a component that is a file: absent
        CHECK(S_ISLNK(root.lstat("abs")->st_mode));
        CHECK(root.read_link("abs") == fx.out + "/canary");
        struct timespec old[2] = {{1000, 0}, {1000, 0}};
        root.set_times("abs", old);  // the link's own times
        CHECK(root.lstat("abs")->st_mtim.tv_sec == 1000);
        CHECK(lstat_path(fx.out + "/canary")->st_mtim.tv_sec != 1000);
        root.remove_tree("absdir");  // removes the link, not the directory it names
        CHECK(!exists_nofollow(fx.t + "/absdir"));
        CHECK(slurp(fx.out + "/canary") == "outside");
        CHECK(root.unlink("abs"));
        CHECK(slurp(fx.out + "/canary") == "outside");
        CHECK(code_of([&] { Dir::open_root(fx.t + "/../t-link-missing"); }) == "E_IO");
        REQUIRE(::symlink(fx.t.c_str(), (fx.base + "/rootlink").c_str()) == 0);
        CHECK(code_of([&] { Dir::open_root(fx.base + "/rootlink"); }) == "E_PATH_ESCAPE");
    });
}

TEST_CASE("beneath: a directory swapped for a symlink between two calls") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        Dir held = root.dir("a");
        DirCache cache(root);
        Entry before = cache.entry("a/b/f");  // parent "a/b" opened and cached
        // The swap: "a" moves aside, a symlink to the outside takes its name.
        REQUIRE(::rename((fx.t + "/a").c_str(), (fx.t + "/a.old").c_str()) == 0);
        REQUIRE(::symlink(fx.out.c_str(), (fx.t + "/a").c_str()) == 0);
        // Every new resolution through "a" refuses.
        CHECK(code_of([&] { root.open("a/b/f", O_RDONLY); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.open("a/b/new", O_WRONLY | O_CREAT | O_EXCL, 0644); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.remove_tree("a/b"); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { root.mkdir("a/b/c", 0755); }) == "E_PATH_ESCAPE");
        CHECK(code_of([&] { DirCache(root).entry("a/b/f"); }) == "E_PATH_ESCAPE");
        // What was opened before stays the directory it was (now a.old, still inside the tree).
        CHECK(held.lstat("b/f"));
        UniqueFd f = entry_open(before, O_RDONLY);
        char buf[16] = {0};
        CHECK(::read(f.get(), buf, sizeof buf) == 6);
        CHECK(std::string(buf) == "inside");
        CHECK(slurp(fx.out + "/b/f") == "outside-b");
        CHECK(!exists_nofollow(fx.out + "/b/new"));
        CHECK(!exists_nofollow(fx.out + "/b/c"));
    });
}

TEST_CASE("beneath: remove_tree removes links inside, never what they point to") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        REQUIRE(::symlink(fx.out.c_str(), (fx.t + "/a/b/out").c_str()) == 0);
        REQUIRE(::symlink((fx.out + "/canary").c_str(), (fx.t + "/a/canary").c_str()) == 0);
        root.remove_tree("a");
        CHECK(!exists_nofollow(fx.t + "/a"));
        CHECK(slurp(fx.out + "/canary") == "outside");
        CHECK(slurp(fx.out + "/b/f") == "outside-b");
    });
}

TEST_CASE("beneath: a FIFO is refused without hanging; regular files only") {
    Fixture fx;
    Dir root = Dir::open_root(fx.t);
    REQUIRE(::mkfifo((fx.t + "/a/fifo").c_str(), 0644) == 0);
    CHECK(code_of([&] { root.open_regular("a/fifo"); }) == "E_SPECIAL_FILE");
    CHECK(!root.read_small_file("a/fifo", 10));
    CHECK(code_of([&] { root.open_regular("a/b"); }) == "E_SPECIAL_FILE");
}

TEST_CASE("beneath: links, renames and data between two trees") {
    both_modes([] {
        Fixture fx;
        mkdirs(fx.base + "/u/x", 0755);
        Dir t = Dir::open_root(fx.t), u = Dir::open_root(fx.base + "/u");
        DirCache tc(t), uc(u);
        CHECK(entry_try_link(tc.entry("a/b/f"), uc.entry("x/f")));
        CHECK(lstat_path(fx.t + "/a/b/f")->st_nlink == 2);
        entry_rename(uc.entry("x/f"), uc.entry("x/g"));
        CHECK(slurp(fx.base + "/u/x/g") == "inside");
        UniqueFd in = t.open_regular("a/b/f");
        UniqueFd out = u.open("x/copy", O_RDWR | O_CREAT | O_EXCL, 0644);
        CHECK(copy_data(in.get(), out.get(), "copy", nullptr, true) == 6);
        CHECK(slurp(fx.base + "/u/x/copy") == "inside");
        CHECK(copy_xattrs(in.get(), out.get()).empty());
        CHECK(code_of([&] { entry_rename(uc.entry("x/g"), uc.entry("x/copy"), RENAME_NOREPLACE); }) == "E_IO");
    });
}

TEST_CASE("beneath: paths longer than PATH_MAX are reached one component at a time") {
    both_modes([] {
        Fixture fx;
        Dir root = Dir::open_root(fx.t);
        std::string rel;
        for (int i = 0; i < 24; i++) {  // 24 x 200 bytes: beyond PATH_MAX (4096)
            rel += (rel.empty() ? "" : "/") + std::string(199, 'a' + i % 26);
            root.mkdir(rel, 0755);
        }
        REQUIRE(rel.size() > 4096);
        {
            UniqueFd f = root.open(rel + "/f", O_WRONLY | O_CREAT | O_EXCL, 0644);
            CHECK(::write(f.get(), "deep", 4) == 4);
        }
        CHECK(root.lstat(rel + "/f")->st_size == 4);
        CHECK(root.read_small_file(rel + "/f", 10) == std::optional<std::string>("deep"));
        DirCache cache(root);
        CHECK(entry_lstat(cache.entry(rel + "/f")));
        root.remove_tree(rel.substr(0, 199));
        CHECK(!root.lstat(rel.substr(0, 199)));
    });
}
