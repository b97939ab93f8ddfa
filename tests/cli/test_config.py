"""jvs config show/get/set/unset: the Go tool's keys in .jvs/config.yaml, validated, and used."""
from cli_helpers import EXIT_CORRUPT, EXIT_USAGE, write


def test_show_get_set_unset_text(repo, jvs):
    p = jvs.ok("config", "show")
    assert "No settings" in p.stdout
    assert jvs.ok("config", "get", "default_engine").stdout == "default_engine (not set)\n"
    assert jvs.ok("config", "set", "default_tags", "nightly,ci").stdout == "Set default_tags = [nightly, ci]\n"
    assert jvs.ok("config", "set", "default_engine", "copy").stdout == "Set default_engine = copy\n"
    assert jvs.ok("config", "get", "default_tags").stdout == "[nightly, ci]\n"
    assert "default_engine = copy" in jvs.ok("config", "show").stdout
    assert jvs.ok("config", "unset", "default_engine").stdout.startswith("Unset default_engine")
    assert jvs.json("config", "get", "default_engine") == {
        "schema": 1, "kind": "config_value", "key": "default_engine", "set": False}
    # the file is the Go tool's YAML, mode 0600
    cfg = repo.root / ".jvs" / "config.yaml"
    assert "default_tags:" in cfg.read_text() and (cfg.stat().st_mode & 0o777) == 0o600


def test_set_validates_and_changes_nothing_on_error(repo, jvs, unchanged):
    with unchanged():
        jvs.error("config", "set", "colour", "red", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        jvs.error("config", "set", "default_engine", "zfs", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        jvs.error("config", "set", "progress_enabled", "maybe", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        jvs.error("config", "set", "retention.keep", "-1", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        jvs.error("config", "set", "retention.within", "a week", code="E_OPTION_INVALID", exit=EXIT_USAGE)
        jvs.error("config", "set", "default_tags", "ok,not ok", code="E_TAG_INVALID", exit=EXIT_USAGE)


def test_default_tags_join_every_snapshot(repo, jvs):
    jvs.ok("config", "set", "default_tags", "auto")
    write(repo.main / "f.txt", "x\n")
    doc = jvs.json("snapshot", "one", "--tag", "v1")
    assert doc["snapshot"]["tags"] == ["v1", "auto"]


def test_output_format_and_progress_defaults(repo, jvs):
    jvs.ok("config", "set", "output_format", "json")
    p = jvs.ok("history")
    assert p.stdout.startswith("{") and '"kind": "history"' in p.stdout
    assert not jvs.ok("--text", "history").stdout.startswith("{")
    jvs.ok("config", "unset", "output_format")
    assert not jvs.ok("history").stdout.startswith("{")


def test_corrupt_config_is_reported(repo, jvs):
    cfg = repo.root / ".jvs" / "config.yaml"
    cfg.write_text("default_tags: [unclosed\n")
    jvs.error("config", "show", code="E_CONFIG_CORRUPT", exit=EXIT_CORRUPT)
    jvs.error("snapshot", "x", code="E_CONFIG_CORRUPT", exit=EXIT_CORRUPT)
    assert cfg.read_text() == "default_tags: [unclosed\n"
