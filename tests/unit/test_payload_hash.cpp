// payload_root_hash against Appendix A, the Python oracle (jvs_oracle.py) on generated trees, and the
// Go-written fixture. This file also defines the helpers the other format tests declare (namespace
// jvs_test): temp dirs, running the oracle, and the unpacked fixture repository.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "format/descriptor.hpp"
#include "format/payload_hash.hpp"
#include "repo/manifest.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

using namespace jvs;

namespace jvs_test {

using TempDir = std::shared_ptr<const std::string>;

// A fresh directory, removed with everything in it when the last reference goes.
TempDir make_temp_dir() {
    const char *base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/jvs-format-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    return TempDir(new std::string(tmpl), [](const std::string *p) {
        remove_tree(*p);
        delete p;
    });
}

std::string shell_quote(const std::string &s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs a shell command and returns its stdout; the command must exit 0.
std::string run_capture(const std::string &cmd) {
    FILE *p = ::popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int status = ::pclose(p);
    INFO("command: " << cmd);
    REQUIRE(status == 0);
    return out;
}

std::string last_line(const std::string &out) {
    std::string s = out;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    const size_t nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

// $JVS_REF (set by `meson test`), else located from this source file: meson compiles it with a path
// relative to the build directory, which is where the test binary lives.
std::string ref_script() {
    if (const char *env = std::getenv("JVS_REF"); env && *env) return env;
    std::string src = __FILE__;
    if (src.front() != '/') {
        char exe[PATH_MAX];
        const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
        REQUIRE(n > 0);
        src = parent_path(std::string(exe, static_cast<size_t>(n))) + "/" + src;
    }
    const std::string unit_dir = real_path(parent_path(src));  // <root>/tests/unit
    return parent_path(unit_dir) + "/oracle/jvs_oracle.py";
}

// Runs `python3 jvs_oracle.py <args>`; names may hold any bytes, so stdout uses surrogateescape.
std::string run_ref(const std::string &args) {
    return run_capture("PYTHONIOENCODING=utf-8:surrogateescape python3 " + shell_quote(ref_script()) + " " + args);
}

void write_bytes(const std::string &path, std::string_view data) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    REQUIRE(fd);
    REQUIRE(::write(fd.get(), data.data(), data.size()) == static_cast<ssize_t>(data.size()));
}

// The Go-written repository of tests/fixtures, unpacked once per process (permissions preserved).
std::string fixture_repo() {
    static const TempDir dir = [] {
        TempDir d = make_temp_dir();
        const std::string tarball = parent_path(parent_path(ref_script())) + "/fixtures/upstream-repo-v1.tar.gz";
        run_capture("tar xzpf " + shell_quote(tarball) + " -C " + shell_quote(*d));
        return d;
    }();
    return *dir + "/demo";
}

}  // namespace jvs_test

using namespace jvs_test;

namespace {

void mkdir_mode(const std::string &path, mode_t mode) {
    REQUIRE(::mkdir(path.c_str(), 0700) == 0);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void file_mode(const std::string &path, std::string_view data, mode_t mode) {
    write_bytes(path, data);
    REQUIRE(::chmod(path.c_str(), mode) == 0);
}

void symlink_to(const std::string &target, const std::string &path) { REQUIRE(::symlink(target.c_str(), path.c_str()) == 0); }

std::string error_code(const std::function<void()> &f) {
    try {
        f();
    } catch (const Error &e) {
        return e.code;
    }
    return "";
}

// The Appendix A payload, created with explicit modes so the umask does not matter.
void make_appendix_tree(const std::string &root) {
    file_mode(root + "/a.txt", "hello\n", 0644);
    mkdir_mode(root + "/sub", 0755);
    file_mode(root + "/sub/b.bin", "x", 0600);
    symlink_to("a.txt", root + "/link");
}

}  // namespace

TEST_CASE("payload hash: Appendix A lines and root hash") {
    const std::vector<PayloadEntry> entries = {
        {'f', "a.txt", 0644, 6, sha256_hex("hello\n")},
        {'d', "sub", 0755, 0, sha256_hex("sub")},
        {'f', "sub/b.bin", 0600, 1, sha256_hex("x")},
        {'l', "link", 0777, 0, sha256_hex("a.txt")},
    };
    CHECK(payload_line(entries[1]) == "dir:sub:mode=0755:ddc6e2b224d0fd821669202258386936fc9ce2899e215eec6322b95f8dd96d6a");
    CHECK(payload_line(entries[0]) ==
          "file:a.txt:mode=0644,size=6:5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
    CHECK(payload_line(entries[2]) ==
          "file:sub/b.bin:mode=0600,size=1:2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881");
    CHECK(payload_line(entries[3]) ==
          "symlink:link:mode=0777:18b7cb099a9ea3f50ba899b5ba81e0d377a5f3b16f8f6eeb8b3e58cd4692b993");
    const std::string expected = "58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3";
    CHECK(payload_root_hash(entries) == expected);

    TempDir dir = make_temp_dir();
    make_appendix_tree(*dir);
    CHECK(payload_root_hash_of_dir(*dir) == expected);
    write_bytes(*dir + "/.READY", "{}");  // the marker never counts
    CHECK(payload_root_hash_of_dir(*dir) == expected);
    CHECK(last_line(run_ref("payload " + shell_quote(*dir))) == expected);
}

TEST_CASE("payload hash: empty tree, .READY entries, line order") {
    const std::string empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    CHECK(payload_root_hash({}) == empty);
    TempDir dir = make_temp_dir();
    CHECK(payload_root_hash_of_dir(*dir) == empty);

    // ".READY" is dropped by basename at any depth, from an entry list too.
    const PayloadEntry a{'f', "a", 0644, 0, sha256_hex("")};
    CHECK(payload_root_hash({a, {'f', ".READY", 0644, 2, "x"}, {'f', "d/.READY", 0644, 2, "y"}, {'d', ".READY", 0755, 0, "z"}}) ==
          payload_root_hash({a}));
    // Whole lines sort bytewise: "a.b" (0x2E) before "a" followed by ':' (0x3A); the input order is irrelevant.
    const PayloadEntry ab{'f', "a.b", 0644, 0, sha256_hex("")};
    const std::string lines = payload_line(ab) + "\n" + payload_line(a) + "\n";
    CHECK(payload_root_hash({a, ab}) == sha256_hex(lines));
    CHECK(payload_root_hash({ab, a}) == sha256_hex(lines));
}

TEST_CASE("payload hash: sorting by path gives the order of whole lines") {
    // Paths that are prefixes of each other, continue with ':' (the line's own separator) or with
    // bytes on either side of it, and bytes above 0x7f: the hash must equal sorting the lines.
    const std::vector<std::string> names = {"a", "a:", "a:b", "a::", "a.b", "a;", "a/b", "a0", "b", ":",
                                            "::", "a\xc3\xa9", "a\x7f", "", "x:y:z", "x:y"};
    std::vector<PayloadEntry> entries;
    for (size_t i = 0; i < names.size(); i++) {
        for (char t : {'f', 'd', 'l'}) {
            std::string rel = std::string(1, t) + names[i];
            entries.push_back({t, rel, static_cast<uint32_t>(0600 + i), i, sha256_hex(rel)});
            entries.push_back({t, "z" + rel, 0644, i * 7, sha256_hex(names[i])});
        }
    }
    std::vector<std::string> lines;
    for (const auto &e : entries) lines.push_back(payload_line(e));
    std::sort(lines.begin(), lines.end());
    std::string all;
    for (const auto &l : lines) all += l + "\n";
    CHECK(payload_root_hash(entries) == sha256_hex(all));
    std::reverse(entries.begin(), entries.end());
    CHECK(payload_root_hash(entries) == sha256_hex(all));
}

TEST_CASE("payload hash: a large table (sorted on two threads) hashes as its sorted lines") {
    std::vector<PayloadEntry> entries;
    for (uint32_t i = 0; i < 70000; i++) {
        // Names whose byte order and numeric order differ, some continued by ':' or '.'.
        std::string rel = "d" + std::to_string(i % 97) + "/f" + std::to_string((i * 7919u) % 70000u);
        if (i % 5 == 0) rel += ":x";
        if (i % 11 == 0) rel += ".y";
        entries.push_back({i % 13 == 0 ? 'l' : 'f', rel, 0644, i, sha256_hex(rel)});
    }
    std::vector<std::string> lines;
    for (const auto &e : entries) lines.push_back(payload_line(e));
    std::sort(lines.begin(), lines.end());
    Sha256 h;
    for (const auto &l : lines) h.update(l + "\n");
    CHECK(payload_root_hash(entries) == h.hex());
}

TEST_CASE("payload hash: generated trees match jvs_oracle.py") {
    TempDir dir = make_temp_dir();
    const std::string &r = *dir;
    make_appendix_tree(r);
    // "a-" < "a.b" < "a/b" < "a0" < "a:" byte-wise: the path order and the line order differ.
    mkdir_mode(r + "/a", 0755);
    file_mode(r + "/a/b", "nested", 0600);
    file_mode(r + "/a.b", "dotted", 0755);
    file_mode(r + "/a-", "dash", 0644);
    file_mode(r + "/a0", "zero", 0644);
    file_mode(r + "/plain", "plain", 0600);
    mkdir_mode(r + "/a_dir", 0777);
    file_mode(r + "/a_dir/b", "nested", 0777);
    file_mode(r + "/caf\xc3\xa9.txt", "non-ascii name", 0644);
    file_mode(r + "/\xe6\x97\xa5\xe6\x9c\xac", "cjk", 0644);
    file_mode(r + "/colon:name", "", 0644);
    mkdir_mode(r + "/empty", 0700);
    mkdir_mode(r + "/empty/deeper", 0755);
    symlink_to("does/not/exist", r + "/dangling");
    symlink_to("/absolute/target/\xc3\xa9", r + "/abs_link");
    symlink_to("a_dir", r + "/dir_link");
    file_mode(r + "/a_dir/.READY", "user file named .READY", 0644);
    mkdir_mode(r + "/.READY", 0755);  // skipped itself, children still hashed
    file_mode(r + "/.READY/inside", "child of a .READY dir", 0644);
    mkdir_mode(r + "/.READY/sub", 0700);
    REQUIRE(::link((r + "/plain").c_str(), (r + "/hardlink").c_str()) == 0);
    std::string big(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < big.size(); i++) big[i] = static_cast<char>((i * 2654435761u) >> 13);
    file_mode(r + "/big.bin", big, 0640);

    const std::string expected = last_line(run_ref("payload " + shell_quote(r)));
    CHECK(payload_root_hash_of_dir(r) == expected);

    // Mode changes are visible, .READY content changes are not.
    REQUIRE(::chmod((r + "/plain").c_str(), 0644) == 0);
    const std::string after_chmod = payload_root_hash_of_dir(r);
    CHECK(after_chmod != expected);
    CHECK(after_chmod == last_line(run_ref("payload " + shell_quote(r))));
    write_bytes(r + "/a_dir/.READY", "changed");
    CHECK(payload_root_hash_of_dir(r) == after_chmod);
}

TEST_CASE("payload hash: names are raw bytes, never normalised") {
    // Spelled out by hand rather than computed by the oracle: names that are not UTF-8.
    TempDir dir = make_temp_dir();
    const std::string bad = "bad\xff" "name", decomposed = "cafe\xcc\x81";
    file_mode(*dir + "/" + bad, "invalid utf-8 name", 0644);
    mkdir_mode(*dir + "/" + decomposed, 0755);
    const std::string lines = "dir:" + decomposed + ":mode=0755:" + sha256_hex(decomposed) + "\n" + "file:" + bad +
                              ":mode=0644,size=18:" + sha256_hex("invalid utf-8 name") + "\n";
    CHECK(payload_root_hash_of_dir(*dir) == sha256_hex(lines));
}

TEST_CASE("payload hash: special files are refused, never opened") {
    TempDir dir = make_temp_dir();
    file_mode(*dir + "/ok", "x", 0644);
    const std::string fifo = *dir + "/pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    try {
        payload_root_hash_of_dir(*dir);  // would block forever if it opened the FIFO
        FAIL("expected E_SPECIAL_FILE");
    } catch (const Error &e) {
        CHECK(e.code == "E_SPECIAL_FILE");
        CHECK(e.message.find(fifo) != std::string::npos);
    }
    REQUIRE(::unlink(fifo.c_str()) == 0);

    const std::string sock_path = *dir + "/sock";
    const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    REQUIRE(s >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    REQUIRE(sock_path.size() < sizeof addr.sun_path);
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
    REQUIRE(::bind(s, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    CHECK(error_code([&] { payload_root_hash_of_dir(*dir); }) == "E_SPECIAL_FILE");
    ::close(s);
}

TEST_CASE("payload hash: the root itself") {
    TempDir dir = make_temp_dir();
    CHECK(error_code([&] { payload_root_hash_of_dir(*dir + "/missing"); }) == "E_IO");
    // filepath.Walk does not follow a symlinked root: no entries.
    mkdir_mode(*dir + "/real", 0755);
    file_mode(*dir + "/real/f", "x", 0644);
    symlink_to("real", *dir + "/link");
    CHECK(payload_root_hash_of_dir(*dir + "/link") == sha256_hex(""));
    CHECK(payload_root_hash_of_dir(*dir + "/real") != sha256_hex(""));
}

TEST_CASE("payload hash: every payload of the Go-written fixture") {
    const std::string repo = fixture_repo();
    for (const char *id : {"1795582641418-194a5047", "1795582641438-a409f36d", "1795582641447-75d802ef",
                           "1795582641564-007844fb"}) {
        CAPTURE(id);
        const Descriptor d = parse_descriptor(read_file(repo + "/.jvs/descriptors/" + id + ".json"));
        CHECK(payload_root_hash_of_dir(repo + "/.jvs/snapshots/" + id) == d.payload_root_hash);
    }
    // The worktrees hold their head snapshot's content (plus a copied .READY, which is skipped).
    CHECK(payload_root_hash_of_dir(repo + "/main") == "ed6f7921dea51249f0949251a332607caf2b11bd62d7a84a106dcbfb7d7980b5");
    CHECK(payload_root_hash_of_dir(repo + "/worktrees/feature") ==
          "1a26865e4716ee9e5502dc17c4919c493b3ba9017ae278491b41ad69704c0f2b");
}
