#include <doctest/doctest.h>

#include "util/error.hpp"
#include "util/names.hpp"

using namespace jvs;

static std::string code_of(void (*f)()) {
    try {
        f();
    } catch (const Error &e) {
        return e.code;
    }
    return "";
}

TEST_CASE("worktree names: accepted and normalised") {
    CHECK(validate_name("main") == "main");
    CHECK(validate_name("feature-1.x_y") == "feature-1.x_y");
    // NFC: "e" + combining acute is outside the portable set either way, but normalisation runs first.
    CHECK_THROWS_AS(validate_name("cafe\xcc\x81"), Error);
}

TEST_CASE("worktree names: every bad shape has E_NAME_INVALID") {
    for (const char *bad : {"", ".", "..", "a..b", "a/b", "a\\b", "-x", ".hidden", "tab\there", "nul", "sp ace"}) {
        std::string s = bad;
        if (s == "nul") s = std::string("a\0b", 3);
        CAPTURE(s);
        try {
            validate_name(s);
            FAIL("accepted");
        } catch (const Error &e) {
            CHECK(e.code == "E_NAME_INVALID");
            CHECK(!e.hint.empty());
        }
    }
    CHECK_THROWS_AS(validate_name(std::string(256, 'a')), Error);
    CHECK_THROWS_AS(validate_name("\xff"), Error);
}

TEST_CASE("tags") {
    validate_tag("v1.2-rc_3");
    CHECK(code_of([] { validate_tag(""); }) == "E_TAG_INVALID");
    CHECK(code_of([] { validate_tag("a b"); }) == "E_TAG_INVALID");
    CHECK(code_of([] { validate_tag("-x"); }) == "E_TAG_INVALID");
    CHECK(code_of([] { validate_tag("HEAD"); }) == "E_TAG_INVALID");
    CHECK(code_of([] { validate_tag("a/b"); }) == "E_TAG_INVALID");
}

TEST_CASE("notes") {
    validate_note("first <note> & co \xe2\x80\xa8 caf\xc3\xa9");
    CHECK(code_of([] { validate_note(std::string("a\0b", 3)); }) == "E_NOTE_INVALID");
    CHECK(code_of([] { validate_note("\xc3"); }) == "E_NOTE_INVALID");
}

TEST_CASE("relative paths are cleaned or rejected") {
    CHECK(clean_relative_path("a//b/./c/") == "a/b/c");
    CHECK(clean_relative_path("./data") == "data");
    for (const char *bad : {"", "/abs", "../x", "a/../b", ".", "./", "a\nb", "a\x01"}) {
        CAPTURE(bad);
        try {
            clean_relative_path(bad);
            FAIL("accepted");
        } catch (const Error &e) {
            CHECK(e.code == "E_PATH_INVALID");
        }
    }
}

TEST_CASE("paths read back from the repository: safe relative paths only") {
    for (std::string ok : std::vector<std::string>{"a", "a/b/c", ".hidden/x", "a..b", "...", "new\nline", "\xff\xfe",
                                                   std::string(255, 'n')}) {
        CAPTURE(ok);
        CHECK_FALSE(unsafe_path_reason(ok));
        check_stored_path(ok, "test");
    }
    std::string deep;
    while (deep.size() < kPathMax) deep += "d/";
    deep.resize(kPathMax + 1);
    for (std::string bad : {std::string(), std::string("/abs"), std::string("../x"), std::string("a/../b"),
                            std::string(".."), std::string("."), std::string("a/./b"), std::string("a//b"),
                            std::string("a/"), std::string("/"), std::string("a\0b", 3), std::string(256, 'n'),
                            deep}) {
        CAPTURE(bad);
        CHECK(unsafe_path_reason(bad));
        try {
            check_stored_path(bad, "test");
            FAIL("accepted");
        } catch (const Error &e) {
            CHECK(e.code == "E_PATH_UNSAFE");
        }
    }
    CHECK(is_stored_name("main"));
    CHECK(is_stored_name(".go-hidden"));  // the Go tool accepted a leading '.' or '-'
    CHECK(is_stored_name("-x"));
    CHECK(is_stored_name(std::string(255, 'w')));
    for (std::string bad : {std::string(), std::string("."), std::string(".."), std::string("a/b"),
                            std::string("a..b"), std::string(256, 'w'), std::string("a b")})
        CHECK_FALSE(is_stored_name(bad));
}
