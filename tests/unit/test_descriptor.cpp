// Descriptors, .READY markers, intents and worktree configs: Appendix A bytes, the Go-written fixture,
// and checksums cross-checked with jvs_oracle.py.
#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <string>

#include "format/descriptor.hpp"
#include "format/worktree_config.hpp"
#include "util/error.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

using namespace jvs;

namespace jvs_test {  // defined in test_payload_hash.cpp
using TempDir = std::shared_ptr<const std::string>;
TempDir make_temp_dir();
std::string shell_quote(const std::string &s);
std::string run_ref(const std::string &args);
void write_bytes(const std::string &path, std::string_view data);
std::string fixture_repo();
}  // namespace jvs_test
using namespace jvs_test;

namespace {

const char *const kFixtureIds[] = {"1795582641418-194a5047", "1795582641438-a409f36d", "1795582641447-75d802ef",
                                   "1795582641564-007844fb"};

const std::string kAppendixFile = R"({
  "snapshot_id": "1795582220522-0d877fa5",
  "worktree_name": "main",
  "created_at": "2026-11-25T04:50:20.525989835Z",
  "note": "first \u003cnote\u003e \u0026 co",
  "tags": [
    "v1",
    "rel"
  ],
  "engine": "copy",
  "payload_root_hash": "58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3",
  "descriptor_checksum": "a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1",
  "integrity_state": "verified"
})";

Descriptor appendix_descriptor() {
    Descriptor d;
    d.snapshot_id = "1795582220522-0d877fa5";
    d.worktree_name = "main";
    d.created_at = *parse_rfc3339("2026-11-25T04:50:20.525989835Z");
    d.note = "first <note> & co";
    d.tags = {"v1", "rel"};
    d.engine = "copy";
    d.payload_root_hash = "58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3";
    d.descriptor_checksum = "a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1";
    d.integrity_state = "verified";
    return d;
}

std::string error_code(const std::function<void()> &f, std::string *hint = nullptr) {
    try {
        f();
    } catch (const Error &e) {
        if (hint) *hint = e.hint;
        return e.code;
    }
    return "";
}

// jvs_oracle.py prints the canonical bytes, then the checksum.
void check_against_ref(const Descriptor &d) {
    TempDir dir = make_temp_dir();
    const std::string path = *dir + "/d.json";
    write_bytes(path, serialize_descriptor(d));
    Descriptor copy = d;
    copy.descriptor_checksum.clear();
    copy.integrity_state.clear();
    const std::string canonical = gojson::canonical(descriptor_to_json(copy));
    CHECK(run_ref("desc " + shell_quote(path)) == canonical + "\n" + descriptor_checksum(d) + "\n");
}

}  // namespace

TEST_CASE("descriptor: Appendix A bytes, checksum, .READY, intent") {
    const Descriptor d = appendix_descriptor();
    CHECK(serialize_descriptor(d) == kAppendixFile);
    CHECK(descriptor_checksum(d) == d.descriptor_checksum);
    Descriptor zeroed = d;
    zeroed.descriptor_checksum.clear();
    zeroed.integrity_state.clear();
    CHECK(gojson::canonical(descriptor_to_json(zeroed)) ==
          R"({"created_at":"2026-11-25T04:50:20.525989835Z","descriptor_checksum":"","engine":"copy","integrity_state":"","note":"first \u003cnote\u003e \u0026 co","payload_root_hash":"58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3","snapshot_id":"1795582220522-0d877fa5","tags":["v1","rel"],"worktree_name":"main"})");
    // The checksum ignores the two excluded fields' values.
    CHECK(descriptor_checksum(zeroed) == d.descriptor_checksum);

    const Timestamp completed = *parse_rfc3339("2026-11-25T04:50:20.526067475Z");
    CHECK(ready_marker(d, completed) ==
          R"({"snapshot_id":"1795582220522-0d877fa5","completed_at":"2026-11-25T04:50:20.526067475Z","payload_root_hash":"58da3c1237654da2c61c5af6afb886e07d38f94dbe244b7aa7af18fb7e1ffbe3","engine":"copy","descriptor_checksum":"a036674ce5682d000492491b274f03421b81826ca85c6ccee2fff15693974ed1"})");
    CHECK(intent_bytes("1795582220522-0d877fa5", "main", *parse_rfc3339("2026-11-25T04:50:20.5Z"), "reflink-copy") ==
          R"({"snapshot_id":"1795582220522-0d877fa5","worktree_name":"main","started_at":"2026-11-25T04:50:20.5Z","engine":"reflink-copy"})");

    const Descriptor back = parse_descriptor(kAppendixFile);
    CHECK(back.note == d.note);
    CHECK(back.tags == d.tags);
    CHECK(back.created_at == d.created_at);
    CHECK(back.parent_id.empty());
    CHECK_FALSE(back.empty_parent_id);
    CHECK_FALSE(back.compression.has_value());
    CHECK(serialize_descriptor(back) == kAppendixFile);
    check_against_ref(d);
}

TEST_CASE("descriptor: every file of the Go-written fixture") {
    const std::string repo = fixture_repo();
    for (const char *id : kFixtureIds) {
        CAPTURE(id);
        const std::string bytes = read_file(repo + "/.jvs/descriptors/" + id + ".json");
        const Descriptor d = parse_descriptor(bytes);
        CHECK(d.snapshot_id == id);
        CHECK(serialize_descriptor(d) == bytes);
        CHECK(descriptor_checksum(d) == d.descriptor_checksum);

        // .READY: rebuilt from the descriptor and the marker's own completed_at.
        const std::string ready = read_file(repo + "/.jvs/snapshots/" + id + "/.READY");
        Timestamp completed;
        REQUIRE_FALSE(gojson::decode_document(ready, {{"completed_at", [&](auto &v) { gojson::decode_time(v, completed); }}}));
        CHECK(ready_marker(d, completed) == ready);
    }
    const Descriptor partial = parse_descriptor(read_file(repo + "/.jvs/descriptors/1795582641447-75d802ef.json"));
    CHECK(partial.partial_paths == std::vector<std::string>{"data"});
    CHECK(partial.tags.empty());
    CHECK(partial.parent_id == "1795582641438-a409f36d");
}

TEST_CASE("descriptor: checksums of generated descriptors match jvs_oracle.py") {
    Descriptor d = appendix_descriptor();
    d.parent_id = "1795582220000-00000000";
    d.note = "ctl \x01\x1f\b\f\n\r\t \x7f <>& \"q\" \\ \xe2\x80\xa8\xe2\x80\xa9 caf\xc3\xa9 \xf0\x9f\x98\x80 /";
    d.tags = {"v1", "<tag>", "\xc3\xa9t\xc3\xa9"};
    d.partial_paths = {"data", "sub/dir", "caf\xc3\xa9.txt"};
    d.created_at = *parse_rfc3339("2026-11-25T10:20:20.1+05:30");  // kept with its offset, as Go does
    check_against_ref(d);
    d.compression = gojson::ordered{{"type", "gzip"}, {"level", 6}};
    check_against_ref(d);

    Descriptor minimal;
    minimal.snapshot_id = "1795582220522-0d877fa5";
    minimal.created_at = *parse_rfc3339("2026-11-25T04:50:20Z");
    check_against_ref(minimal);
    minimal.empty_parent_id = true;  // a Go *string pointing at "" is present in the hashed bytes
    CHECK(serialize_descriptor(minimal).find("\"parent_id\": \"\"") != std::string::npos);
    check_against_ref(minimal);
}

TEST_CASE("descriptor: Go json.Unmarshal semantics") {
    const Descriptor d = parse_descriptor(R"({
      "SNAPSHOT_ID": "id-1", "Parent_Id": "p", "worktree_name": "w", "created_at": "2026-11-25T10:20:20+05:30",
      "note": "n", "tags": ["a", null], "engine": "copy", "future_field": {"x": [1, 2.5]}, "integrity_state": null,
      "partial_paths": null, "compression": {"TYPE": "gzip", "level": 9, "extra": true}, "note": "later"})");
    CHECK(d.snapshot_id == "id-1");
    CHECK(d.parent_id == "p");
    CHECK(d.note == "later");
    CHECK(d.tags == std::vector<std::string>{"a", ""});
    CHECK(d.integrity_state.empty());
    CHECK(d.created_at.offset_min == 330);
    REQUIRE(d.compression.has_value());
    CHECK(gojson::compact(*d.compression) == R"({"type":"gzip","level":9})");
    CHECK(serialize_descriptor(d).find("\"created_at\": \"2026-11-25T10:20:20+05:30\"") != std::string::npos);

    // `"parent_id": ""` survives (Go's pointer), `null` and absence do not.
    CHECK(parse_descriptor(R"({"parent_id": ""})").empty_parent_id);
    CHECK_FALSE(parse_descriptor(R"({"parent_id": null})").empty_parent_id);
    CHECK_FALSE(parse_descriptor(R"({"parent_id": ""})").compression.has_value());
    CHECK(parse_descriptor(R"({"compression": {}})").compression == gojson::ordered{{"type", ""}, {"level", 0}});
    CHECK_FALSE(parse_descriptor(R"({"compression": {"level": 1}, "compression": null})").compression.has_value());

    // A null document or missing time decodes to Go's zero values.
    const Descriptor zero = parse_descriptor("null");
    CHECK(zero.snapshot_id.empty());
    CHECK(format_rfc3339nano(zero.created_at) == "0001-01-01T00:00:00Z");
    CHECK(format_rfc3339nano(parse_descriptor("{}").created_at) == "0001-01-01T00:00:00Z");
}

TEST_CASE("descriptor: malformed files are E_DESCRIPTOR_CORRUPT with a hint") {
    for (const char *bad : {"", "{", "[]", "\"x\"", "42", R"({"snapshot_id": 1})", R"({"tags": "v1"})", R"({"tags": [1]})",
                            R"({"created_at": "2026-11-25"})", R"({"created_at": "2026-11-25T04:50:20.120"})",
                            R"({"created_at": 1795582220})", R"({"compression": {"level": 6.5}})",
                            R"({"compression": {"level": "6"}})", R"({"compression": []})", R"({"note": true})",
                            R"({"partial_paths": {}})", R"({"parent_id": 5})", "{} trailing"}) {
        CAPTURE(bad);
        std::string hint;
        CHECK(error_code([&] { parse_descriptor(bad); }, &hint) == "E_DESCRIPTOR_CORRUPT");
        CHECK_FALSE(hint.empty());
    }
}

TEST_CASE("worktree config: fixture bytes, omitempty, detached state") {
    const std::string repo = fixture_repo();
    for (const char *name : {"main", "feature"}) {
        CAPTURE(name);
        const std::string bytes = read_file(repo + "/.jvs/worktrees/" + name + "/config.json");
        const WorktreeConfig c = parse_worktree_config(bytes);
        CHECK(c.name == name);
        CHECK(serialize_worktree_config(c) == bytes);
    }
    const WorktreeConfig main_cfg = parse_worktree_config(read_file(repo + "/.jvs/worktrees/main/config.json"));
    CHECK(main_cfg.base_snapshot_id.empty());
    CHECK(main_cfg.detached());  // restored to the first snapshot after the partial one
    CHECK_FALSE(parse_worktree_config(read_file(repo + "/.jvs/worktrees/feature/config.json")).detached());

    WorktreeConfig fresh;
    fresh.name = "w<1>";
    fresh.created_at = *parse_rfc3339("2026-11-25T04:50:18.215457017Z");
    CHECK(serialize_worktree_config(fresh) == "{\n  \"name\": \"w\\u003c1\\u003e\",\n  \"created_at\": \"2026-11-25T04:50:18.215457017Z\"\n}");
    CHECK_FALSE(fresh.detached());
    fresh.base_snapshot_id = "b";
    fresh.latest_snapshot_id = "l";
    CHECK(serialize_worktree_config(fresh) ==
          "{\n  \"name\": \"w\\u003c1\\u003e\",\n  \"base_snapshot_id\": \"b\",\n  \"latest_snapshot_id\": \"l\",\n"
          "  \"created_at\": \"2026-11-25T04:50:18.215457017Z\"\n}");
    CHECK(fresh.detached());

    const WorktreeConfig odd = parse_worktree_config(R"({"NAME":"x","Head_Snapshot_Id":"h","extra":[1],"latest_snapshot_id":null})");
    CHECK(odd.name == "x");
    CHECK(odd.head_snapshot_id == "h");
    CHECK(odd.latest_snapshot_id.empty());
    CHECK(format_rfc3339nano(odd.created_at) == "0001-01-01T00:00:00Z");
}

TEST_CASE("worktree config: malformed files are E_CONFIG_CORRUPT") {
    for (const char *bad : {"", "{", "[]", R"({"name": 1})", R"({"created_at": "today"})", R"({"head_snapshot_id": []})",
                            "{\"name\":\"a\"}x"}) {
        CAPTURE(bad);
        std::string hint;
        CHECK(error_code([&] { parse_worktree_config(bad); }, &hint) == "E_CONFIG_CORRUPT");
        CHECK_FALSE(hint.empty());
    }
}
