// Audit records: Appendix A, the Go-written fixture chain, and append_audit's backward tail scan
// (chains, 1 MB records, torn and malformed last lines, concurrent appenders).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "format/audit.hpp"
#include "format/gojson.hpp"
#include "util/fs.hpp"

using namespace jvs;

namespace jvs_test {  // defined in test_payload_hash.cpp
using TempDir = std::shared_ptr<const std::string>;
TempDir make_temp_dir();
void write_bytes(const std::string &path, std::string_view data);
std::string fixture_repo();
}  // namespace jvs_test
using namespace jvs_test;

namespace {

std::vector<std::string> split_lines(const std::string &s) {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t nl; (nl = s.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(s.substr(start, nl - start));
    if (start < s.size()) out.push_back(s.substr(start));
    return out;
}

// Every line parses, re-serialises to its own bytes, carries its own hash and links to the previous one.
std::vector<AuditRecord> check_chain(const std::string &path) {
    const std::string bytes = read_file(path);
    REQUIRE_FALSE(bytes.empty());
    CHECK(bytes.back() == '\n');
    std::vector<AuditRecord> records;
    std::string prev;
    for (const std::string &line : split_lines(bytes)) {
        auto r = parse_audit_line(line);
        REQUIRE(r);
        CHECK(serialize_audit_line(*r) == line + "\n");
        CHECK(audit_record_hash(*r) == r->record_hash);
        CHECK(r->prev_hash == prev);
        prev = r->record_hash;
        records.push_back(*r);
    }
    return records;
}

AuditRecord event(std::string type, nlohmann::json details = nlohmann::json::object()) {
    AuditRecord r;
    r.event_type = std::move(type);
    r.worktree_name = "main";
    r.details = std::move(details);
    return r;
}

}  // namespace

TEST_CASE("audit: Appendix A record hash and line bytes") {
    AuditRecord r;
    r.timestamp = *parse_rfc3339("2026-11-25T04:50:20.529771297Z");
    r.event_type = "snapshot_create";
    r.snapshot_id = "1795582220522-0d877fa5";
    r.worktree_name = "main";
    r.details = {{"checksum", "a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1"},
                 {"engine", "copy"},
                 {"note", "first <note> & co"}};
    CHECK(audit_record_hash(r) == "21647d2c3d641850b64f440a0a8631e2559d0e513a803e84e1093c9d370ffabe");
    r.record_hash = audit_record_hash(r);
    const std::string line =
        R"({"timestamp":"2026-11-25T04:50:20.529771297Z","event_type":"snapshot_create","snapshot_id":"1795582220522-0d877fa5","worktree_name":"main","details":{"checksum":"a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1","engine":"copy","note":"first \u003cnote\u003e \u0026 co"},"prev_hash":"","record_hash":"21647d2c3d641850b64f440a0a8631e2559d0e513a803e84e1093c9d370ffabe"})";
    CHECK(serialize_audit_line(r) == line + "\n");
    // The hashed bytes: sorted keys, record_hash present but empty.
    AuditRecord zeroed = r;
    zeroed.record_hash.clear();
    nlohmann::ordered_json j = nlohmann::ordered_json::parse(R"({"details":{"checksum":"a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1","engine":"copy","note":"first <note> & co"},"event_type":"snapshot_create","prev_hash":"","record_hash":"","snapshot_id":"1795582220522-0d877fa5","timestamp":"2026-11-25T04:50:20.529771297Z","worktree_name":"main"})");
    CHECK(gojson::canonical(j) ==
          R"({"details":{"checksum":"a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1","engine":"copy","note":"first \u003cnote\u003e \u0026 co"},"event_type":"snapshot_create","prev_hash":"","record_hash":"","snapshot_id":"1795582220522-0d877fa5","timestamp":"2026-11-25T04:50:20.529771297Z","worktree_name":"main"})");
    const auto back = parse_audit_line(line);
    REQUIRE(back);
    CHECK(back->details == r.details);
    CHECK(back->timestamp == r.timestamp);
}

TEST_CASE("audit: the Go-written fixture log") {
    const std::string path = fixture_repo() + "/.jvs/audit/audit.jsonl";
    const auto records = check_chain(path);
    REQUIRE(records.size() == 5);
    CHECK(records[2].details["partial_paths"] == nlohmann::json::array({"data"}));
    CHECK(records[4].event_type == "restore");
    CHECK(records[4].details["detached"] == true);
    CHECK(records[4].record_hash == "f8e59279ea57feeb955afa8bea75bd672590f58ffe1670bd5255e7daf7d07c64");

    // Appending to a copy of it continues Go's chain.
    TempDir dir = make_temp_dir();
    const std::string copy = *dir + "/audit.jsonl";
    write_bytes(copy, read_file(path));
    const AuditRecord added = append_audit(copy, event("gc_run", {{"deleted_count", 3}, {"plan_id", "p"}}));
    CHECK(added.prev_hash == records[4].record_hash);
    CHECK(split_lines(read_file(copy)).back().find(R"("details":{"deleted_count":3,"plan_id":"p"})") != std::string::npos);
    CHECK(check_chain(copy).size() == 6);
}

TEST_CASE("audit: record fields, omitempty and Go decoding") {
    AuditRecord r;
    r.timestamp = *parse_rfc3339("2026-11-25T04:50:20Z");
    r.event_type = "gc_run";
    CHECK(serialize_audit_line(r) == R"({"timestamp":"2026-11-25T04:50:20Z","event_type":"gc_run","prev_hash":"","record_hash":""})"
                                     "\n");
    r.details = nlohmann::json(nullptr);  // a nil map is omitted too
    CHECK(serialize_audit_line(r).find("details") == std::string::npos);
    r.details = {{"z", 1.5}, {"a", {{"y", nullptr}, {"b", {1, "<"}}}}};
    CHECK(serialize_audit_line(r).find(R"("details":{"a":{"b":[1,"\u003c"],"y":null},"z":1.5})") != std::string::npos);
    r.details = nlohmann::json::array();
    CHECK_THROWS(serialize_audit_line(r));

    // Lines Go's json.Unmarshal accepts (and so takes the record_hash of) versus rejects.
    CHECK(parse_audit_line("null")->record_hash.empty());
    CHECK(parse_audit_line("{}")->record_hash.empty());
    CHECK(parse_audit_line(R"({"RECORD_HASH":"h","details":{"a":1},"Details":{"b":2}})")->details == nlohmann::json{{"a", 1}, {"b", 2}});
    for (const char *bad : {"", "   ", "garbage", "[]", "\"s\"", R"({"timestamp":"yesterday"})", R"({"details":[1]})",
                            R"({"details":{"n":1e999}})", R"({"record_hash":7})", R"({"record_hash":"a"} x)",
                            R"({"record_hash":"a")"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_audit_line(bad).has_value());
    }
}

TEST_CASE("audit append: a new log chains record after record") {
    TempDir dir = make_temp_dir();
    const std::string path = *dir + "/audit/audit.jsonl";  // the directory is created as Go does
    const Timestamp before = now_utc();
    std::string prev;
    for (int i = 0; i < 5; i++) {
        AuditRecord r = append_audit(path, event("snapshot_create", {{"note", std::to_string(i)}, {"checksum", "c"}}));
        CHECK(r.prev_hash == prev);
        CHECK(r.record_hash == audit_record_hash(r));
        CHECK_FALSE(r.timestamp < before);
        prev = r.record_hash;
    }
    // A caller-provided timestamp is kept.
    AuditRecord fixed = event("restore", {{"detached", false}});
    fixed.timestamp = *parse_rfc3339("2030-01-01T00:00:00.5Z");
    CHECK(format_rfc3339nano(append_audit(path, fixed).timestamp) == "2030-01-01T00:00:00.5Z");
    CHECK(check_chain(path).size() == 6);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0600) == 0600);
}

TEST_CASE("audit append: a 1 MB record, then more appends") {
    TempDir dir = make_temp_dir();
    const std::string path = *dir + "/audit.jsonl";
    append_audit(path, event("snapshot_create", {{"note", "small"}}));
    // Over Go's 64 KiB scanner limit and many times the backward read chunk; '<' doubles its size on disk.
    const AuditRecord big = append_audit(path, event("snapshot_create", {{"note", std::string(512 * 1024, '<') + "\n\xe2\x80\xa8"}}));
    const AuditRecord after = append_audit(path, event("restore", {{"detached", true}}));
    CHECK(after.prev_hash == big.record_hash);
    append_audit(path, event("restore", {{"detached", false}}));
    const auto records = check_chain(path);
    REQUIRE(records.size() == 4);
    CHECK(read_file(path).size() > 3 * 1024 * 1024);
}

TEST_CASE("audit append: torn and malformed last lines") {
    TempDir dir = make_temp_dir();
    const std::string path = *dir + "/audit.jsonl";
    const AuditRecord first = append_audit(path, event("snapshot_create"));
    const AuditRecord second = append_audit(path, event("restore"));

    // A crash mid-write leaves a fragment without '\n': skipped, and the next record starts on a new line.
    const std::string good = read_file(path);
    const std::string fragment = R"({"timestamp":"2026-11-25T04:5)";
    write_bytes(path, good + fragment);
    const AuditRecord third = append_audit(path, event("restore"));
    CHECK(third.prev_hash == second.record_hash);
    const auto lines = split_lines(read_file(path));
    REQUIRE(lines.size() == 4);
    CHECK(lines[2] == fragment);
    CHECK(parse_audit_line(lines[3])->record_hash == third.record_hash);
    CHECK(append_audit(path, event("restore")).prev_hash == third.record_hash);

    // Even a complete record without its '\n' counts as torn.
    AuditRecord unterminated = event("restore");
    unterminated.record_hash = "feedface";
    const std::string line = serialize_audit_line(unterminated);
    write_bytes(path, good + line.substr(0, line.size() - 1));
    CHECK(append_audit(path, event("restore")).prev_hash == second.record_hash);

    // Complete but malformed lines at the end are skipped until one decodes.
    write_bytes(path, good + "not json\n\n{\"timestamp\":\"bad\"}\n" + std::string(200000, 'x') + "\n");
    CHECK(append_audit(path, event("restore")).prev_hash == second.record_hash);

    // Nothing decodes at all: the chain restarts at "".
    write_bytes(path, "garbage\n" + fragment);
    CHECK(append_audit(path, event("restore")).prev_hash.empty());
    write_bytes(path, fragment);
    const AuditRecord only = append_audit(path, event("restore"));
    CHECK(only.prev_hash.empty());
    CHECK(read_file(path) == fragment + "\n" + serialize_audit_line(only));
    (void)first;
}

TEST_CASE("audit append: concurrent appenders keep one chain") {
    TempDir dir = make_temp_dir();
    const std::string path = *dir + "/audit.jsonl";
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; t++) {
        threads.emplace_back([&path, t] {
            for (int i = 0; i < 25; i++) append_audit(path, event("restore", {{"thread", t}, {"i", i}}));
        });
    }
    for (auto &th : threads) th.join();
    CHECK(check_chain(path).size() == 100);
}
