"""Validates every document the real libjvs emits against docs/SCHEMA_v1.json.

Drives the library through plain ctypes (every argtypes/restype set; out params are c_void_p
passed byref, read with ctypes.string_at and released with jvs_free) over init, open, info,
snapshot (+progress events, cancellation, partial), history, resolve, restore (+dry_run), verify
(+tampering), every worktree operation, jvs_call, build_info and many error cases. Every document
is validated against the top-level schema and against its kind's $def; in addition:
  - no value anywhere is null (optional fields are omitted);
  - error documents: status matches the documented code table, status_name == jvs_status_name();
  - descriptors equal .jvs/descriptors/<id>.json and their descriptor_checksum recomputes.

The library comes from $JVS_LIB (default /work/main/build/libjvs.so); the tests that need it are
skipped, with the reason printed, when it is missing. $JVS_SCHEMA overrides the schema file (to try a
draft). Run: pytest -q tests/schema
"""
import ctypes
import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SCHEMA_PATH = Path(os.environ.get("JVS_SCHEMA", ROOT / "docs" / "SCHEMA_v1.json"))
SCHEMA = json.loads(SCHEMA_PATH.read_text())
LIB_PATH = Path(os.environ.get("JVS_LIB", "/work/main/build/libjvs.so"))

KINDS = ["error", "repo", "info", "snapshot", "restore", "history", "resolve", "verify", "worktree",
         "worktree_list", "worktree_path", "worktree_remove", "build_info", "warning", "progress",
         "config", "config_value", "diff", "doctor", "gc_plan", "gc_run", "gc_pin", "gc_unpin", "gc_pins"]
SHARED = ["descriptor", "worktree_object", "degradation", "degradations", "stats", "restore_stats", "warnings",
          "audit_chain", "diff_change", "doctor_finding", "gc_retention", "gc_pin_object"]

JVS_OK, JVS_E_ERROR, JVS_E_INVALID_ARG, JVS_E_NOT_FOUND, JVS_E_EXISTS = 0, -1, -2, -3, -4
JVS_E_LOCKED, JVS_E_CONFLICT, JVS_E_CORRUPT, JVS_E_IO, JVS_E_CANCELLED = -5, -6, -7, -8, -9
JVS_E_UNSUPPORTED, JVS_E_NOMEM, JVS_E_INTERNAL = -10, -11, -12

# docs/ARCHITECTURE.md "Error codes" (+ E_NOMEM).
STATUS_OF_CODE = {
    "E_ARG_NULL": JVS_E_INVALID_ARG, "E_JSON_INVALID": JVS_E_INVALID_ARG, "E_OPTION_UNKNOWN": JVS_E_UNSUPPORTED,
    "E_OPTION_INVALID": JVS_E_INVALID_ARG, "E_NAME_INVALID": JVS_E_INVALID_ARG, "E_TAG_INVALID": JVS_E_INVALID_ARG,
    "E_NOTE_INVALID": JVS_E_INVALID_ARG, "E_PATH_INVALID": JVS_E_INVALID_ARG, "E_PATH_ESCAPE": JVS_E_INVALID_ARG,
    "E_PATH_NOT_FOUND": JVS_E_NOT_FOUND, "E_NOT_REPO": JVS_E_NOT_FOUND, "E_NOT_WORKTREE": JVS_E_NOT_FOUND,
    "E_WORKTREE_NOT_FOUND": JVS_E_NOT_FOUND, "E_REF_NOT_FOUND": JVS_E_NOT_FOUND,
    "E_REF_AMBIGUOUS": JVS_E_INVALID_ARG, "E_NO_SNAPSHOTS": JVS_E_NOT_FOUND, "E_REPO_EXISTS": JVS_E_EXISTS,
    "E_WORKTREE_EXISTS": JVS_E_EXISTS, "E_DETACHED": JVS_E_CONFLICT, "E_WORKTREE_MAIN": JVS_E_CONFLICT,
    "E_PATH_CONFLICT": JVS_E_CONFLICT,
    "E_LOCKED": JVS_E_LOCKED, "E_FORMAT_UNSUPPORTED": JVS_E_UNSUPPORTED, "E_SPECIAL_FILE": JVS_E_UNSUPPORTED,
    "E_CONFIG_CORRUPT": JVS_E_CORRUPT, "E_DESCRIPTOR_CORRUPT": JVS_E_CORRUPT,
    "E_CHECKSUM_MISMATCH": JVS_E_CORRUPT, "E_PAYLOAD_HASH_MISMATCH": JVS_E_CORRUPT,
    "E_COMPRESSED_UNVERIFIED": JVS_E_CORRUPT,
    "E_SNAPSHOT_INCOMPLETE": JVS_E_CORRUPT, "E_IO": JVS_E_IO, "E_NO_SPACE": JVS_E_IO,
    "E_CANCELLED": JVS_E_CANCELLED, "E_NOMEM": JVS_E_NOMEM, "E_INTERNAL": JVS_E_INTERNAL,
    "E_READY_MISMATCH": JVS_E_CORRUPT, "E_AUDIT_CHAIN_BROKEN": JVS_E_CORRUPT, "E_GC_PLAN_MISMATCH": JVS_E_CONFLICT,
    "E_PATH_UNSAFE": JVS_E_CORRUPT,
}

# docs/ARCHITECTURE.md "Options": documented keys per operation.
WRITERS = {"snapshot", "restore", "worktree_create", "worktree_fork", "worktree_rename", "worktree_remove"}
DOCUMENTED_OPTIONS = {
    "repo_init": {"name"},
    "repo_open": {"worktree"},
    "info": set(),
    "snapshot": {"note", "tags", "paths", "compress"},
    "restore": {"ref", "dry_run"},
    "history": {"limit", "grep", "tag", "all"},
    "resolve": {"ref"},
    "verify": {"ref", "all", "payload"},
    "worktree_create": {"name", "from"},
    "worktree_fork": {"from", "name"},
    "worktree_list": set(),
    "worktree_path": {"name"},
    "worktree_rename": {"name", "new_name"},
    "worktree_remove": {"name", "force"},
    "config_show": set(),
    "config_get": {"key"},
    "config_set": {"key", "value", "lock_timeout_ms"},
    "config_unset": {"key", "lock_timeout_ms"},
    "diff": {"from", "to", "stat"},
    "doctor": {"strict", "repair", "lock_timeout_ms", "dry_run", "cache_check"},
    "gc_plan": {"keep_last", "keep_within", "keep_tags", "keep_min_age"},
    "gc_run": {"plan_id", "lock_timeout_ms"},
    "gc_pin": {"ref", "reason", "expires"},
    "gc_unpin": {"ref"},
    "gc_pins": set(),
}
for _op, _keys in DOCUMENTED_OPTIONS.items():
    if _op not in ("repo_init", "repo_open", "worktree_list", "worktree_path", "worktree_rename",
                   "worktree_remove", "doctor", "gc_plan", "gc_run", "gc_pins") and not _op.startswith("config_"):
        _keys.add("worktree")  # the worktree-management operations name theirs with `name`
    if _op in WRITERS:
        _keys.add("lock_timeout_ms")

# ---- schema helpers -----------------------------------------------------------------------

TOP = jsonschema.Draft202012Validator(SCHEMA)
_BASE = {k: v for k, v in SCHEMA.items() if k in ("$schema", "$id", "$defs")}


def def_validator(name):
    return jsonschema.Draft202012Validator(dict(_BASE, **{"$ref": f"#/$defs/{name}"}))


DEF_VALIDATORS = {k: def_validator(k) for k in SCHEMA["$defs"]}
SEEN = {}  # kind -> number of real documents validated
ERROR_CODES_SEEN = set()


def find_nulls(value, path="$"):
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in find_nulls(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in find_nulls(v, f"{path}[{i}]")]
    return []


def go_canonical(value):
    """pkg/jsonutil.CanonicalMarshal for the values that occur in descriptors (Go escaping)."""
    if isinstance(value, dict):
        return "{" + ",".join(go_canonical(k) + ":" + go_canonical(value[k]) for k in sorted(value)) + "}"
    if isinstance(value, list):
        return "[" + ",".join(go_canonical(v) for v in value) + "]"
    if isinstance(value, str):
        s = json.dumps(value, ensure_ascii=False)
        return (s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return json.dumps(value)


def check_descriptor(desc, repo_root):
    errs = sorted(DEF_VALIDATORS["descriptor"].iter_errors(desc), key=str)
    assert not errs, f"descriptor invalid: {errs[0].message} at {list(errs[0].absolute_path)}\n{desc}"
    zeroed = dict(desc, descriptor_checksum="", integrity_state="")
    digest = hashlib.sha256(go_canonical(zeroed).encode()).hexdigest()
    assert digest == desc["descriptor_checksum"], f"descriptor_checksum does not recompute for {desc}"
    if repo_root is not None:
        on_disk = Path(repo_root) / ".jvs" / "descriptors" / f"{desc['snapshot_id']}.json"
        assert on_disk.exists(), on_disk
        assert json.loads(on_disk.read_text()) == desc, "descriptor in document differs from the file"


def validate(doc, kind=None, repo_root=None, jvs=None):
    assert isinstance(doc, dict), doc
    assert not find_nulls(doc), f"null values at {find_nulls(doc)}: {doc}"
    k = doc.get("kind")
    if kind is not None:
        assert k == kind, f"expected kind {kind!r}: {doc}"
    errs = sorted(DEF_VALIDATORS.get(k, TOP).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errs, (f"{k} document does not match the schema: {errs[0].message} at "
                      f"{list(errs[0].absolute_path)}\n{json.dumps(doc)[:2000]}")
    top = list(TOP.iter_errors(doc))
    assert not top, f"top-level schema rejects a valid {k}: {top[0].message}"
    SEEN[k] = SEEN.get(k, 0) + 1
    if k == "error":
        e = doc["error"]
        ERROR_CODES_SEEN.add(e["code"])
        if e["code"] in STATUS_OF_CODE:
            assert e["status"] == STATUS_OF_CODE[e["code"]], f"{e['code']} has status {e['status']}: {doc}"
        if jvs is not None:
            assert e["status_name"] == jvs.status_name(e["status"]), doc
    if repo_root is not None:
        for desc in descriptors_in(doc):
            check_descriptor(desc, repo_root)
    return doc


def descriptors_in(doc):
    k = doc.get("kind")
    if k in ("snapshot", "resolve"):
        return [doc["snapshot"]]
    if k == "history":
        return list(doc["snapshots"])
    return []


# ---- ctypes binding -----------------------------------------------------------------------

c_status = ctypes.c_int32
P = ctypes.c_void_p
S = ctypes.c_char_p
OUT = ctypes.POINTER(ctypes.c_void_p)
EVENT_CB = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_char_p, ctypes.c_void_p)
NO_CB = EVENT_CB(0)

SIGNATURES = {
    "jvs_abi_version": ([], ctypes.c_uint32),
    "jvs_version_number": ([], ctypes.c_uint32),
    "jvs_version_string": ([], S),  # static: c_char_p is fine (never freed)
    "jvs_status_name": ([c_status], S),
    "jvs_build_info": ([OUT], c_status),
    "jvs_free": ([P], None),
    "jvs_repo_init": ([S, S, OUT, OUT], c_status),
    "jvs_repo_open": ([S, S, OUT, OUT], c_status),
    "jvs_repo_close": ([P], None),
    "jvs_repo_interrupt": ([P], None),
    "jvs_info": ([P, S, OUT], c_status),
    "jvs_snapshot": ([P, S, EVENT_CB, P, OUT], c_status),
    "jvs_restore": ([P, S, EVENT_CB, P, OUT], c_status),
    "jvs_history": ([P, S, OUT], c_status),
    "jvs_resolve": ([P, S, OUT], c_status),
    "jvs_verify": ([P, S, EVENT_CB, P, OUT], c_status),
    "jvs_worktree_create": ([P, S, EVENT_CB, P, OUT], c_status),
    "jvs_worktree_fork": ([P, S, EVENT_CB, P, OUT], c_status),
    "jvs_worktree_list": ([P, S, OUT], c_status),
    "jvs_worktree_path": ([P, S, OUT], c_status),
    "jvs_worktree_rename": ([P, S, OUT], c_status),
    "jvs_worktree_remove": ([P, S, OUT], c_status),
    "jvs_call": ([P, S, S, EVENT_CB, P, OUT], c_status),
}
WITH_CB = {"snapshot", "restore", "verify", "worktree_create", "worktree_fork"}


def enc(v):
    if v is None or isinstance(v, bytes):
        return v
    if isinstance(v, str):
        return v.encode()
    return json.dumps(v).encode()


class Jvs:
    def __init__(self, path):
        self.lib = ctypes.CDLL(str(path))
        for name, (args, res) in SIGNATURES.items():
            fn = getattr(self.lib, name)
            fn.argtypes = args
            fn.restype = res

    def status_name(self, st):
        return self.lib.jvs_status_name(st).decode()

    def take(self, st, out):
        """Reads and frees *out_json; returns (status, document or None)."""
        doc = None
        if out.value:
            raw = ctypes.string_at(out.value)
            self.lib.jvs_free(out)
            doc = json.loads(raw.decode("utf-8"))
        else:
            assert st == JVS_E_NOMEM, f"status {st} left out_json NULL"
        return st, doc

    def build_info(self):
        out = ctypes.c_void_p()
        return self.take(self.lib.jvs_build_info(ctypes.byref(out)), out)

    def init(self, path, opts=None):
        return self._handle_call(self.lib.jvs_repo_init, path, opts)

    def open(self, path, opts=None):
        return self._handle_call(self.lib.jvs_repo_open, path, opts)

    def _handle_call(self, fn, path, opts):
        out, repo = ctypes.c_void_p(), ctypes.c_void_p()
        st = fn(enc(str(path)) if path is not None else None, enc(opts), ctypes.byref(repo), ctypes.byref(out))
        st, doc = self.take(st, out)
        if st != JVS_OK:
            assert not repo.value, "failed init/open returned a handle"
        return st, doc, (repo.value if st == JVS_OK else None)

    def op(self, name, repo, opts=None, events=None, cancel_at=None, on_event=None):
        """Calls jvs_<name>; events (a list) collects parsed progress documents."""
        out = ctypes.c_void_p()
        fn = getattr(self.lib, "jvs_" + name, None)
        if fn is None:  # offered through jvs_call only
            return self.call(repo, name, opts, events)
        if name in WITH_CB:
            cb = self._cb(events, cancel_at, on_event)
            st = fn(repo, enc(opts), cb, None, ctypes.byref(out))
        else:
            st = fn(repo, enc(opts), ctypes.byref(out))
        return self.take(st, out)

    def call(self, repo, method, params=None, events=None):
        out = ctypes.c_void_p()
        cb = self._cb(events, None, None)
        st = self.lib.jvs_call(repo, enc(method), enc(params), cb, None, ctypes.byref(out))
        return self.take(st, out)

    @staticmethod
    def _cb(events, cancel_at, on_event):
        if events is None and on_event is None:
            return NO_CB

        def cb(event_json, _user_data):
            try:
                ev = json.loads(event_json.decode("utf-8"))
            except Exception:  # keep it; validation after the call reports it
                ev = {"unparsable": repr(event_json)}
            if events is not None:
                events.append(ev)
            if on_event is not None:
                on_event(ev)
            return 1 if cancel_at and events is not None and len(events) >= cancel_at else 0

        return EVENT_CB(cb)


# ---- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def jvs():
    if not LIB_PATH.exists():
        msg = f"library not built: {LIB_PATH} does not exist (set JVS_LIB)"
        print("SKIP:", msg)
        pytest.skip(msg)
    return Jvs(LIB_PATH)


class Repo:
    def __init__(self, jvs, root):
        self.jvs, self.root = jvs, Path(root)
        st, doc, self.h = jvs.init(root)
        assert st == JVS_OK, doc
        validate(doc, "repo", jvs=jvs)
        self.init_doc = doc
        self.main = self.root / "main"

    def ok(self, name, opts=None, kind=None, **kw):
        st, doc = self.jvs.op(name, self.h, opts, **kw)
        assert st == JVS_OK, f"{name} {opts}: {st} {doc}"
        return validate(doc, kind or name, repo_root=self.root, jvs=self.jvs)

    def err(self, name, opts, status, code, **kw):
        st, doc = self.jvs.op(name, self.h, opts, **kw)
        validate(doc, "error", repo_root=self.root, jvs=self.jvs)
        assert (st, doc["error"]["code"]) == (status, code), f"{name} {opts}: wanted {code}: {st} {doc}"
        assert doc["error"]["status"] == st
        return doc

    def close(self):
        self.jvs.lib.jvs_repo_close(self.h)


@pytest.fixture(scope="module")
def repo(jvs, tmp_path_factory):
    r = Repo(jvs, tmp_path_factory.mktemp("schema") / "repo")
    (r.main / "docs").mkdir()
    (r.main / "a.txt").write_text("alpha\n")
    (r.main / "docs" / "b.md").write_text("bravo\n")
    (r.main / "docs" / "c <&> \u00e9.md").write_text("charlie\n")  # Go HTML escaping in canonical JSON
    os.symlink("a.txt", r.main / "link")
    os.symlink("missing-target", r.main / "dangling")
    yield r
    r.close()


# ---- tests without the library ------------------------------------------------------------

def test_schema_is_valid_draft_2020_12():
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_has_every_kind_and_shared_def():
    defs = SCHEMA["$defs"]
    for name in KINDS + SHARED:
        assert name in defs, name
    assert [o["$ref"] for o in SCHEMA["oneOf"]] == [f"#/$defs/{k}" for k in KINDS]
    assert SCHEMA["properties"]["kind"]["enum"] == KINDS
    for k in KINDS:
        d = defs[k]
        assert d["properties"]["kind"] == {"const": k}
        assert {"schema", "kind"} <= set(d["required"])
        assert "additionalProperties" not in d


SAMPLE_DESC = {
    "snapshot_id": "1708300800000-a3f7c1b2", "worktree_name": "main", "created_at": "2026-11-25T04:50:18.215457017Z",
    "engine": "copy", "payload_root_hash": "a" * 64, "descriptor_checksum": "b" * 64, "integrity_state": "verified",
}


def test_schema_accepts_and_rejects_hand_made_documents():
    good = {"schema": 1, "kind": "resolve", "ref": "v1", "matched_by": "tag", "snapshot": SAMPLE_DESC,
            "future_key": {"anything": [1]}}
    assert not list(TOP.iter_errors(good)), "unknown keys must be accepted"
    bad = [
        dict(good, schema=2),
        {k: v for k, v in good.items() if k != "schema"},
        dict(good, kind="resolved"),
        dict(good, matched_by="fuzzy"),
        dict(good, snapshot=dict(SAMPLE_DESC, snapshot_id="1708300800000-A3F7C1B2")),
        dict(good, snapshot=dict(SAMPLE_DESC, payload_root_hash="a" * 63)),
        dict(good, snapshot=dict(SAMPLE_DESC, parent_id=None)),
        dict(good, snapshot=dict(SAMPLE_DESC, tags=[])),
        dict(good, snapshot=dict(SAMPLE_DESC, created_at="2026-11-25T04:50:18.120Z")),
        dict(good, snapshot={k: v for k, v in SAMPLE_DESC.items() if k != "engine"}),
    ]
    for doc in bad:
        assert list(TOP.iter_errors(doc)), f"schema accepted {doc}"
    err = {"schema": 1, "kind": "error", "error": {"status": -3, "status_name": "JVS_E_NOT_FOUND",
                                                     "code": "E_REF_NOT_FOUND", "message": "m", "hint": "h",
                                                     "op": "resolve", "details": {"ref": "x"}}}
    assert not list(TOP.iter_errors(err))
    assert list(TOP.iter_errors({"schema": 1, "kind": "error", "error": dict(err["error"], code="REF")}))
    ev = {"schema": 1, "kind": "progress", "op": "snapshot", "phase": "copy", "done": 1, "total": 2}
    assert not list(TOP.iter_errors(ev))
    assert list(TOP.iter_errors(dict(ev, done=-1)))


def test_go_canonical_matches_upstream_example():
    # UPSTREAM_FACTS 3.3: the two excluded fields are zeroed, not removed; keys sorted; Go escaping.
    desc = dict(SAMPLE_DESC, note="a<b")
    text = go_canonical(dict(desc, descriptor_checksum="", integrity_state=""))
    assert text.startswith('{"created_at":"2026-11-25T04:50:18.215457017Z","descriptor_checksum":"",')
    assert '"note":"a\\u003cb"' in text and '"integrity_state":""' in text


# ---- tests with the library ---------------------------------------------------------------

def test_versions_and_build_info(jvs):
    lib = jvs.lib
    assert lib.jvs_abi_version() == 1
    assert lib.jvs_version_number() == 1000000
    assert lib.jvs_version_string() == b"1.0.0"
    lib.jvs_free(None)
    st, doc = jvs.build_info()
    assert st == JVS_OK
    validate(doc, "build_info", jvs=jvs)
    assert doc["version"] == "1.0.0" and doc["version_number"] == 1000000 and doc["abi_version"] == 1
    assert doc["schema"] == 1
    ops = {o["name"]: set(o["options"]) for o in doc["operations"]}
    missing_ops = sorted(set(DOCUMENTED_OPTIONS) - set(ops) - {"repo_init", "repo_open"})
    assert not missing_ops, f"build_info lacks operations {missing_ops}"
    problems = []
    for op, keys in DOCUMENTED_OPTIONS.items():
        if op not in ops:
            continue
        if keys - ops[op]:
            problems.append(f"{op}: documented but not listed {sorted(keys - ops[op])}")
        if ops[op] - keys:
            print(f"NOTE build_info {op}: listed but not documented {sorted(ops[op] - keys)}")
    assert not problems, problems
    codes = set(doc["error_codes"])
    assert set(STATUS_OF_CODE) - {"E_NOMEM"} <= codes, sorted(set(STATUS_OF_CODE) - codes)
    for name in (0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11, -12, -999):
        assert jvs.status_name(name)


def test_init_open_info(jvs, repo, tmp_path):
    assert repo.init_doc["created"] is True and repo.init_doc["format_version"] == 1
    assert repo.init_doc["repo_root"] == os.path.realpath(repo.root)
    assert repo.init_doc.get("worktree") == "main"
    st, doc, h = jvs.init(repo.root)
    assert st == JVS_E_EXISTS
    validate(doc, "error", jvs=jvs)
    assert doc["error"]["code"] == "E_REPO_EXISTS" and doc["error"]["op"]

    st, doc, h = jvs.init(tmp_path / "named", {"name": "bad/name"})
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_INVALID_ARG, "E_NAME_INVALID")

    st, doc, h = jvs.init(None)
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_INVALID_ARG, "E_ARG_NULL")

    st, doc, h = jvs.open(tmp_path)
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_NOT_FOUND, "E_NOT_REPO")

    st, doc, h = jvs.open(repo.main / "docs")
    assert st == JVS_OK, doc
    validate(doc, "repo", jvs=jvs)
    assert doc["created"] is False and doc["worktree"] == "main"
    assert doc["worktree_path"] == os.path.realpath(repo.main)
    jvs.lib.jvs_repo_close(h)

    st, doc, h = jvs.open(repo.root / ".jvs")
    assert st == JVS_OK, doc  # inside the repository but not inside a worktree
    validate(doc, "repo", jvs=jvs)
    jvs.lib.jvs_repo_close(h)

    info = repo.ok("info")
    assert info["repo_id"] == repo.init_doc["repo_id"]
    assert info["total_worktrees"] == 1 and info["version"] == "1.0.0"

    repo.err("info", "{oops", JVS_E_INVALID_ARG, "E_JSON_INVALID")
    repo.err("info", b'{"worktree":"\xff"}', JVS_E_INVALID_ARG, "E_JSON_INVALID")
    d = repo.err("info", {"nope": 1}, JVS_E_UNSUPPORTED, "E_OPTION_UNKNOWN")
    assert "nope" in json.dumps(d["error"])
    repo.err("history", {"worktree": 7}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
    repo.err("history", {"worktree": "ghost"}, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND")
    st, doc = jvs.op("info", None)
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_INVALID_ARG, "E_ARG_NULL")


def test_build_info_features_say_what_this_build_and_machine_support(jvs):
    st, doc = jvs.build_info()
    features = set(doc["features"])
    assert {"engine:copy", "stat-cache", "hardlink-dedup", "in-place-restore", "locks", "engine:reflink-copy"} <= features
    assert ("engine:juicefs-clone" in features) == (shutil.which("juicefs") is not None), features


def test_incremental_snapshot_progress_ends_at_its_total(jvs, tmp_path):
    r = Repo(jvs, tmp_path / "incr")
    try:
        for i in range(6):
            (r.main / f"f{i}.bin").write_bytes(bytes([i]) * 100_000)
        r.ok("snapshot", {"note": "one"})
        (r.main / "new.bin").write_bytes(b"n" * 50_000)
        events = []
        r.ok("snapshot", {"note": "two"}, events=events)
        copy = [ev for ev in events if ev["phase"] in ("copy", "hash")]
        assert copy, events
        last = copy[-1]
        # the six linked (or cache-vouched) files count as done: the phase ends with every byte of its total
        assert last["done"] == last["total"] == 7 and last["bytes_done"] == last["bytes_total"] == 650_000, last
    finally:
        r.close()


def test_snapshot_progress_and_errors(jvs, repo):
    repo.err("restore", {"ref": "HEAD"}, JVS_E_NOT_FOUND, "E_NO_SNAPSHOTS")
    events = []
    doc = repo.ok("snapshot", {"note": "first <&>", "tags": ["v1", "base"]}, events=events)
    assert events, "snapshot emitted no progress event"
    for ev in events:
        validate(ev, "progress")
        assert ev["op"] == "snapshot"
        assert ev["total"] == 0 or ev["done"] <= ev["total"], ev
        assert ev.get("bytes_done", 0) <= ev.get("bytes_total", 0) or ev.get("bytes_total", 0) == 0, ev
    desc = doc["snapshot"]
    assert desc["note"] == "first <&>" and desc["tags"] == ["v1", "base"] and "parent_id" not in desc
    st = doc["stats"]
    assert st["files"] == 3 and st["symlinks"] == 2 and st["dirs"] >= 1
    repo.first = desc["snapshot_id"]

    (repo.main / "a.txt").write_text("alpha 2\n")
    doc = repo.ok("snapshot", {})
    assert doc["snapshot"]["parent_id"] == repo.first and "note" not in doc["snapshot"]
    assert "tags" not in doc["snapshot"]
    repo.second = doc["snapshot"]["snapshot_id"]

    doc = repo.ok("snapshot", {"paths": ["docs"], "note": "partial docs"})
    assert doc["snapshot"]["partial_paths"] == ["docs"]
    repo.partial = doc["snapshot"]["snapshot_id"]


    # invalid snapshot options: on a scratch repository, so a lenient library cannot change `repo`
    scratch = Repo(jvs, repo.root.parent / "scratch")
    try:
        (scratch.main / "f.txt").write_text("f\n")
        os.symlink("/etc", scratch.main / "etc-link")
        cases = [
            ({"paths": ["../outside"]}, JVS_E_INVALID_ARG, "E_PATH_INVALID"),
            ({"paths": ["/etc"]}, JVS_E_INVALID_ARG, "E_PATH_INVALID"),
            ({"paths": [""]}, JVS_E_INVALID_ARG, "E_PATH_INVALID"),
            ({"paths": ["etc-link/passwd"]}, JVS_E_INVALID_ARG, "E_PATH_ESCAPE"),
            ({"paths": ["no-such-file"]}, JVS_E_NOT_FOUND, "E_PATH_NOT_FOUND"),
            ({"tags": ["has space"]}, JVS_E_INVALID_ARG, "E_TAG_INVALID"),
            ({"note": "nul\u0000byte"}, JVS_E_INVALID_ARG, "E_NOTE_INVALID"),
            ({"tags": "v1"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID"),
            ({"tags": [1]}, JVS_E_INVALID_ARG, "E_OPTION_INVALID"),
            ({"compress": "gzip"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID"),
            ({"lock_timeout_ms": "1"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID"),
            ({"lock_timeout_ms": -1}, JVS_E_INVALID_ARG, "E_OPTION_INVALID"),
            ({"engine": "copy"}, JVS_E_UNSUPPORTED, "E_OPTION_UNKNOWN"),
            ("[]", JVS_E_INVALID_ARG, "E_JSON_INVALID"),
            ('{"note":"a","note":"b"', JVS_E_INVALID_ARG, "E_JSON_INVALID"),
        ]
        wrong = []
        for opts, status, code in cases:
            st, doc = jvs.op("snapshot", scratch.h, opts)
            validate(doc, None, repo_root=scratch.root, jvs=jvs)
            got = (st, doc["error"]["code"] if doc["kind"] == "error" else doc["kind"])
            if got != (status, code):
                wrong.append(f"snapshot {opts!r}: got {got}, wanted {(status, code)}")
    finally:
        scratch.close()

    fifo = repo.main / "pipe"
    os.mkfifo(fifo)
    try:
        d = repo.err("snapshot", {}, JVS_E_UNSUPPORTED, "E_SPECIAL_FILE")
        assert "pipe" in json.dumps(d["error"])
    finally:
        fifo.unlink()

    before = repo.ok("history", {"all": True})["snapshots"]
    events = []
    (repo.main / "new.txt").write_text("n\n")
    repo.err("snapshot", {"note": "cancel me"}, JVS_E_CANCELLED, "E_CANCELLED", events=events, cancel_at=1)
    assert len(events) == 1
    validate(events[0], "progress")
    assert repo.ok("history", {"all": True})["snapshots"] == before
    assert not any(p.name.endswith(".tmp") for p in (repo.root / ".jvs" / "snapshots").iterdir())
    assert not list((repo.root / ".jvs" / "intents").iterdir())

    events = []
    repo.err("snapshot", {}, JVS_E_CANCELLED, "E_CANCELLED", events=events,
             on_event=lambda ev: jvs.lib.jvs_repo_interrupt(repo.h))
    assert repo.ok("history", {"all": True})["snapshots"] == before
    (repo.main / "new.txt").unlink()
    assert not wrong, "\n".join(wrong)  # the scratch-repository option cases, reported last


def test_history_and_resolve(jvs, repo):
    h = repo.ok("history")
    assert h["mode"] == "lineage" and h["worktree"] == "main"
    ids = [d["snapshot_id"] for d in h["snapshots"]]
    assert ids == [repo.partial, repo.second, repo.first]
    assert h["head_snapshot_id"] == h["latest_snapshot_id"] == repo.partial
    assert [d["snapshot_id"] for d in repo.ok("history", {"limit": 1}, kind="history")["snapshots"]] == ids[:1]
    assert [d["snapshot_id"] for d in repo.ok("history", {"tag": "v1"}, kind="history")["snapshots"]] == [repo.first]
    assert [d["snapshot_id"] for d in repo.ok("history", {"grep": "docs"}, kind="history")["snapshots"]] == [
        repo.partial]
    assert repo.ok("history", {"all": True})["mode"] == "all"
    assert repo.ok("history", {"grep": "zzz"})["snapshots"] == []
    repo.err("history", {"limit": -1}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")

    def resolve(ref, matched_by, sid):
        d = repo.ok("resolve", {"ref": ref})
        assert (d["ref"], d["matched_by"], d["snapshot"]["snapshot_id"]) == (ref, matched_by, sid), d
    resolve(repo.first, "id", repo.first)
    resolve("HEAD", "head", repo.partial)
    resolve("v1", "tag", repo.first)
    resolve("bas", "tag_prefix", repo.first)
    resolve("first", "note_prefix", repo.first)
    resolve(repo.second[:20], "id_prefix", repo.second)
    d = repo.ok("resolve", {"ref": "HEAD~2"})
    assert d["snapshot"]["snapshot_id"] == repo.first
    d = repo.err("resolve", {"ref": "1"}, JVS_E_INVALID_ARG, "E_REF_AMBIGUOUS")
    cands = d["error"]["details"]["candidates"]
    assert isinstance(cands, list) and len(cands) == 3, d
    repo.err("resolve", {"ref": "nothing"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
    repo.err("resolve", {"ref": "HEAD~9"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
    repo.err("resolve", {}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
    repo.err("resolve", {"ref": 5}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")


def test_restore(jvs, repo):
    (repo.main / "a.txt").write_text("dirty\n")
    (repo.main / "extra.txt").write_text("x\n")
    events = []
    d = repo.ok("restore", {"ref": repo.first, "dry_run": True}, events=events)
    for ev in events:
        validate(ev, "progress")
    assert d["dry_run"] is True and d["snapshot_id"] == repo.first and d["worktree"] == "main"
    actions = {c["path"]: c["action"] for c in d["changes"]}
    assert actions.get("a.txt") == "update" and actions.get("extra.txt") == "delete", actions
    assert all(not c["path"].startswith("/") for c in d["changes"])
    assert (repo.main / "a.txt").read_text() == "dirty\n"
    assert (repo.main / "extra.txt").exists()

    root_ino = os.stat(repo.main).st_ino
    try:
        _restore_checks(jvs, repo, root_ino)
    finally:  # leave main attached for the next tests, whatever failed
        jvs.op("restore", repo.h, {"ref": "HEAD"})


def _restore_checks(jvs, repo, root_ino):
    d = repo.ok("restore", {"ref": repo.first})
    assert d["dry_run"] is False and d["detached"] is True and d["partial"] is False
    assert d["stats"]["updated"] >= 1 and d["stats"]["deleted"] >= 1
    assert (repo.main / "a.txt").read_text() == "alpha\n"
    assert not (repo.main / "extra.txt").exists() and not (repo.main / ".READY").exists()
    assert os.readlink(repo.main / "dangling") == "missing-target"
    assert os.stat(repo.main).st_ino == root_ino, "restore must keep the worktree root inode"
    h = repo.ok("history")
    assert h["head_snapshot_id"] == repo.first and h["latest_snapshot_id"] == repo.partial

    repo.err("snapshot", {}, JVS_E_CONFLICT, "E_DETACHED")
    d = repo.ok("restore", {"ref": "HEAD"})  # HEAD = latest = the partial snapshot of docs/
    assert d["snapshot_id"] == repo.partial and d["detached"] is False and d["partial"] is True
    assert all(c["path"].startswith("docs") for c in d.get("changes", [])), d
    assert (repo.main / "a.txt").read_text() == "alpha\n", "a partial restore touches only its paths"
    repo.err("restore", {}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
    repo.err("restore", {"ref": "nothing"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
    repo.err("restore", {"ref": "HEAD", "dry_run": "yes"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")


def test_worktrees(jvs, repo):
    d = repo.ok("worktree_create", {"name": "feat"}, kind="worktree")
    wt = d["worktree"]
    assert wt["name"] == "feat" and os.path.isabs(wt["path"]) and wt["detached"] is False
    assert wt["path"] == os.path.realpath(repo.root / "worktrees" / "feat")
    assert "head_snapshot_id" not in wt and "base_snapshot_id" not in wt
    repo.err("worktree_create", {"name": "feat"}, JVS_E_EXISTS, "E_WORKTREE_EXISTS")
    repo.err("worktree_create", {"name": "a/b"}, JVS_E_INVALID_ARG, "E_NAME_INVALID")
    repo.err("worktree_create", {"name": ".."}, JVS_E_INVALID_ARG, "E_NAME_INVALID")
    repo.err("worktree_create", {"name": "x", "from": "nothing"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
    repo.err("restore", {"ref": "HEAD", "worktree": "feat"}, JVS_E_NOT_FOUND, "E_NO_SNAPSHOTS")
    repo.err("worktree_fork", {"worktree": "feat"}, JVS_E_NOT_FOUND, "E_NO_SNAPSHOTS")

    events = []
    d = repo.ok("worktree_create", {"name": "from1", "from": repo.first}, kind="worktree", events=events)
    for ev in events:
        validate(ev, "progress")
    assert d["worktree"]["base_snapshot_id"] == repo.first and "latest_snapshot_id" not in d["worktree"]
    assert d["worktree"]["detached"] is False
    assert (Path(d["worktree"]["path"]) / "a.txt").read_text() == "alpha\n"

    d = repo.ok("worktree_fork", {}, kind="worktree")
    fork = d["worktree"]
    assert fork["name"].startswith("fork-")
    assert fork["base_snapshot_id"] == fork["head_snapshot_id"] == fork["latest_snapshot_id"] == repo.partial
    exp = repo.ok("worktree_fork", {"from": "v1", "name": "exp"}, kind="worktree")["worktree"]
    assert exp["head_snapshot_id"] == repo.first
    assert (Path(exp["path"]) / "a.txt").read_text() == "alpha\n"
    assert not (Path(exp["path"]) / ".READY").exists()
    repo.err("worktree_fork", {"from": repo.first, "name": "exp"}, JVS_E_EXISTS, "E_WORKTREE_EXISTS")

    d = repo.ok("worktree_list")
    names = [w["name"] for w in d["worktrees"]]
    assert set(names) == {"main", "feat", "from1", fork["name"], "exp"}, names
    listed = {w["name"]: w for w in d["worktrees"]}
    assert listed["exp"] == exp, (listed["exp"], exp)
    p = repo.ok("worktree_path", {"name": "exp"})
    assert (p["name"], p["path"]) == ("exp", exp["path"])
    p = repo.ok("worktree_path")
    assert (p["name"], p["path"]) == ("main", os.path.realpath(repo.main))
    repo.err("worktree_path", {"name": "ghost"}, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND")

    # a snapshot in another worktree through the same handle ("worktree" option)
    (repo.root / "worktrees" / "exp" / "e.txt").write_text("e\n")
    d = repo.ok("snapshot", {"worktree": "exp", "note": "on exp"})
    assert d["snapshot"]["worktree_name"] == "exp" and d["snapshot"]["parent_id"] == repo.first

    d = repo.ok("worktree_rename", {"name": "feat", "new_name": "feat2"}, kind="worktree")
    assert d["worktree"]["name"] == "feat2" and d["worktree"]["path"].endswith("feat2")
    repo.err("worktree_rename", {"name": "main", "new_name": "trunk"}, JVS_E_CONFLICT, "E_WORKTREE_MAIN")
    repo.err("worktree_rename", {"name": "feat2", "new_name": "exp"}, JVS_E_EXISTS, "E_WORKTREE_EXISTS")
    repo.err("worktree_rename", {"name": "ghost", "new_name": "g2"}, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND")
    repo.err("worktree_rename", {"name": "feat2"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")

    d = repo.ok("worktree_remove", {"name": "feat2"})
    assert d["name"] == "feat2" and d["removed"] is True
    repo.err("worktree_remove", {"name": "main"}, JVS_E_CONFLICT, "E_WORKTREE_MAIN")
    repo.err("worktree_remove", {"name": "feat2"}, JVS_E_NOT_FOUND, "E_WORKTREE_NOT_FOUND")
    # detached worktree: remove needs force
    st, _ = jvs.op("restore", repo.h, {"ref": repo.first, "worktree": fork["name"]})  # validated in test_restore
    assert st == JVS_OK
    repo.err("worktree_remove", {"name": fork["name"]}, JVS_E_CONFLICT, "E_DETACHED")
    assert repo.ok("worktree_remove", {"name": fork["name"], "force": True})["removed"] is True
    # a missing required option is E_OPTION_INVALID (as for rename/remove/restore/resolve)
    repo.err("worktree_create", {}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")


def test_call(jvs, repo):
    st, doc = jvs.call(repo.h, "history", {"limit": 1})
    assert st == JVS_OK
    validate(doc, "history", repo_root=repo.root, jvs=jvs)
    events = []
    st, doc = jvs.call(repo.h, "verify", {"payload": False}, events=events)
    assert st == JVS_OK
    validate(doc, "verify", jvs=jvs)
    for ev in events:
        validate(ev, "progress")
    st, doc = jvs.call(repo.h, "no_such_method", "{}")
    validate(doc, "error", jvs=jvs)
    assert st == JVS_E_UNSUPPORTED, doc
    st, doc = jvs.call(repo.h, None, None)
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_INVALID_ARG, "E_ARG_NULL")


def test_locked(jvs, repo):
    lock_dir = repo.root / ".jvs" / "locks"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / "wt-main.lock", "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        d = repo.err("snapshot", {"lock_timeout_ms": 0}, JVS_E_LOCKED, "E_LOCKED")
        assert isinstance(d["error"].get("details", {}), dict)
        repo.err("restore", {"ref": "HEAD", "lock_timeout_ms": 100}, JVS_E_LOCKED, "E_LOCKED")
        repo.ok("history")  # readers are not blocked
        fcntl.flock(f, fcntl.LOCK_UN)
    repo.ok("snapshot", {"lock_timeout_ms": 0, "note": "after lock"})


def test_verify_and_tampering(jvs, tmp_path):
    r = Repo(jvs, tmp_path / "vrepo")
    try:
        (r.main / "f.txt").write_text("payload\n")
        s1 = r.ok("snapshot", {"note": "one"})["snapshot"]["snapshot_id"]
        (r.main / "g.txt").write_text("more\n")
        s2 = r.ok("snapshot", {"note": "two"})["snapshot"]["snapshot_id"]
        events = []
        d = r.ok("verify", {}, events=events)
        for ev in events:
            validate(ev, "progress")
        # one phase (docs §6): the inner scan/hash of each snapshot never replaces it
        assert {ev["phase"] for ev in events} == {"verify"}, events
        # cancelled: a read-only operation says so, not "nothing was published"
        doc = r.err("verify", {}, JVS_E_CANCELLED, "E_CANCELLED", events=[], cancel_at=1)
        assert "nothing was changed" in doc["error"]["hint"] and "publish" not in doc["error"]["hint"], doc
        # bytes: what the stored manifests list, all of it hashed by the end
        assert events[-1]["done"] == events[-1]["total"] == 2, events
        assert events[-1]["bytes_done"] == events[-1]["bytes_total"] == len("payload\n") * 2 + len("more\n"), events
        assert d["ok"] is True and {x["snapshot_id"] for x in d["results"]} == {s1, s2}
        assert all(x["checksum_valid"] and not x["tamper_detected"] and "code" not in x for x in d["results"])
        d = r.ok("verify", {"ref": s1})
        assert [x["snapshot_id"] for x in d["results"]] == [s1] and d["results"][0]["payload_hash_valid"] is True
        d = r.ok("verify", {"all": True, "payload": False})
        assert d["ok"] is True

        # payload tamper (g.txt exists only in s2, so no hard link is shared with s1)
        target = r.root / ".jvs" / "snapshots" / s2 / "g.txt"
        os.chmod(target, 0o644)
        target.write_text("tampered\n")
        d = r.ok("verify", {"ref": s2})
        res = d["results"][0]
        assert d["ok"] is False and res["payload_hash_valid"] is False and res["tamper_detected"] is True
        assert res["code"] == "E_PAYLOAD_HASH_MISMATCH" and res["error"]

        # descriptor tamper
        dp = r.root / ".jvs" / "descriptors" / f"{s1}.json"
        desc = json.loads(dp.read_text())
        desc["note"] = "rewritten"
        dp.write_text(json.dumps(desc, indent=2))
        d = r.ok("verify", {"payload": False})
        bad = {x["snapshot_id"]: x for x in d["results"]}
        assert d["ok"] is False and bad[s1]["checksum_valid"] is False
        assert bad[s1]["code"] == "E_CHECKSUM_MISMATCH"
        # restore refuses a snapshot whose checksum does not match
        r.err("restore", {"ref": s1}, JVS_E_CORRUPT, "E_CHECKSUM_MISMATCH")
        r.err("verify", {"ref": "nothing"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
    finally:
        r.close()
        shutil.rmtree(tmp_path / "vrepo", ignore_errors=True)


def test_config(jvs, tmp_path):
    r = Repo(jvs, tmp_path / "crepo")
    try:
        d = r.ok("config_show", kind="config")
        assert d["settings"] == {} and "default_tags" in d["keys"]
        assert r.ok("config_get", {"key": "default_engine"}, kind="config_value") == {
            "schema": 1, "kind": "config_value", "key": "default_engine", "set": False}
        d = r.ok("config_set", {"key": "default_tags", "value": "nightly, ci"}, kind="config_value")
        assert d["value"] == ["nightly", "ci"]
        assert r.ok("config_set", {"key": "retention.keep", "value": 3}, kind="config_value")["value"] == 3
        assert r.ok("config_set", {"key": "default_engine", "value": "reflink"}, kind="config_value")["value"] == \
            "reflink-copy"
        r.ok("config_set", {"key": "progress_enabled", "value": "false"}, kind="config_value")
        d = r.ok("config_show", kind="config")
        assert d["settings"] == {"default_engine": "reflink-copy", "default_tags": ["nightly", "ci"],
                                 "progress_enabled": False, "retention.keep": 3}
        text = (r.root / ".jvs" / "config.yaml").read_text()
        assert "retention:" in text and "keep: 3" in text
        assert oct((r.root / ".jvs" / "config.yaml").stat().st_mode & 0o777) == "0o600"
        assert r.ok("config_unset", {"key": "default_engine"}, kind="config_value")["set"] is False
        before = (r.root / ".jvs" / "config.yaml").read_bytes()
        r.err("config_set", {"key": "nope", "value": "1"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
        r.err("config_set", {"key": "retention.within", "value": "7 days"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
        r.err("config_set", {"key": "default_tags", "value": ["ok", "bad tag"]}, JVS_E_INVALID_ARG, "E_TAG_INVALID")
        r.err("config_set", {"key": "default_tags"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
        assert (r.root / ".jvs" / "config.yaml").read_bytes() == before
        # default_tags join every snapshot's tags
        (r.main / "f").write_text("x")
        tags = r.ok("snapshot", {"tags": ["v1", "ci"]})["snapshot"]["tags"]
        assert tags == ["v1", "ci", "nightly"]
        # a corrupt file is reported with its own code, never silently rewritten
        (r.root / ".jvs" / "config.yaml").write_text("retention: [unclosed\n")
        r.err("config_show", None, JVS_E_CORRUPT, "E_CONFIG_CORRUPT")
        r.err("config_set", {"key": "output_format", "value": "json"}, JVS_E_CORRUPT, "E_CONFIG_CORRUPT")
        assert (r.root / ".jvs" / "config.yaml").read_text() == "retention: [unclosed\n"
    finally:
        r.close()


def test_format_and_config_errors(jvs, tmp_path):
    r = Repo(jvs, tmp_path / "frepo")
    r.close()
    (tmp_path / "frepo" / ".jvs" / "format_version").write_text("2\n")
    st, doc, h = jvs.open(tmp_path / "frepo")
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_UNSUPPORTED, "E_FORMAT_UNSUPPORTED")
    (tmp_path / "frepo" / ".jvs" / "format_version").write_text("garbage")
    st, doc, h = jvs.open(tmp_path / "frepo")
    validate(doc, "error", jvs=jvs)
    assert (st, doc["error"]["code"]) == (JVS_E_CORRUPT, "E_CONFIG_CORRUPT")


def test_upkeep_documents(jvs, tmp_path):
    """diff (snapshot<->snapshot, snapshot<->worktree, stat), doctor (findings, repairs), every gc
    kind, verify's audit report, and the upkeep error codes."""
    r = Repo(jvs, tmp_path / "urepo")
    try:
        (r.main / "f.txt").write_text("one\n")
        (r.main / "x.sh").write_text("#!/bin/sh\n")
        os.symlink("f.txt", r.main / "l")
        s1 = r.ok("snapshot", {"note": "one"})["snapshot"]["snapshot_id"]
        (r.main / "f.txt").write_text("one two\n")
        os.chmod(r.main / "x.sh", 0o755)
        os.unlink(r.main / "l")
        os.symlink("x.sh", r.main / "l")
        (r.main / "d").mkdir()
        d = r.ok("diff")
        assert d["to_worktree"] == "main" and d["totals"] == {"added": 1, "removed": 0, "modified": 3}
        assert {c["change"] for c in d["modified"]} == {"content", "mode", "target"}
        s2 = r.ok("snapshot", {"note": "two"})["snapshot"]["snapshot_id"]
        d = r.ok("diff", {"from": s1, "to": s2})
        assert d["to_snapshot_id"] == s2 and d["totals"]["modified"] == 3
        assert "added" not in r.ok("diff", {"from": s2, "to": s1, "stat": True})
        r.err("diff", {"from": "nope"}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")

        v = r.ok("verify")
        assert v["audit"] == {"ok": True, "records": 2}
        # gc: a removed worktree's snapshot is the candidate; pins; a refused and a real run.
        r.ok("worktree_create", {"name": "t"}, kind="worktree")
        (r.root / "worktrees" / "t" / "t.txt").write_text("t\n")
        t = r.ok("snapshot", {"worktree": "t"})["snapshot"]["snapshot_id"]
        r.ok("worktree_remove", {"name": "t"})
        plan = r.ok("gc_plan", {"keep_tags": ["rel"], "keep_min_age": "0"})
        assert plan["candidates"] == [t] and plan["bytes_reclaimable"] > 0
        pin = r.ok("gc_pin", {"ref": t, "reason": "r", "expires": "1h"})
        assert pin["pin"]["expired"] is False and pin["matched_by"] == "id"
        assert [p["snapshot_id"] for p in r.ok("gc_pins")["pins"]] == [t]
        r.err("gc_run", {"plan_id": plan["plan_id"]}, JVS_E_CONFLICT, "E_GC_PLAN_MISMATCH")
        assert r.ok("gc_unpin", {"ref": t})["removed"] is True
        r.err("gc_unpin", {"ref": t}, JVS_E_NOT_FOUND, "E_REF_NOT_FOUND")
        r.err("gc_run", {"plan_id": "../x"}, JVS_E_INVALID_ARG, "E_OPTION_INVALID")
        plan = r.ok("gc_plan", {"keep_min_age": "0"})
        assert r.ok("gc_run", {"plan_id": plan["plan_id"]})["deleted"] == [t]
        # doctor: healthy, then leftovers found and repaired, then a broken audit chain.
        assert r.ok("doctor", {"strict": True})["healthy"] is True
        (r.root / ".jvs" / "snapshots" / "1700000000000-deadbeef.tmp").mkdir()
        doc = r.ok("doctor")
        assert [f["code"] for f in doc["findings"]] == ["snapshot_tmp_leftover"] and doc["repairs"] == []
        doc = r.ok("doctor", {"repair": True})
        assert doc["repairs"][0]["done"] is True and doc["findings"][0]["repaired"] is True
        audit = r.root / ".jvs" / "audit" / "audit.jsonl"
        audit.write_text(audit.read_text().replace('"note":"one"', '"note":"One"'))
        v = r.ok("verify", {"payload": False})
        assert v["ok"] is False and v["audit"]["code"] == "E_AUDIT_CHAIN_BROKEN" and v["audit"]["line"] == 1
        doc = r.ok("doctor", {"strict": True})
        assert doc["healthy"] is False and doc["findings"][-1]["error_code"] == "E_AUDIT_CHAIN_BROKEN"
        ready = r.root / ".jvs" / "snapshots" / s2 / ".READY"
        ready.write_text(ready.read_text().replace('"engine":"', '"engine":"x'))
        assert r.ok("verify", {"ref": s2})["results"][0]["code"] == "E_READY_MISMATCH"
    finally:
        r.close()
        shutil.rmtree(tmp_path / "urepo", ignore_errors=True)


def test_zz_every_kind_was_validated():
    if len(SEEN) < 3:
        pytest.skip("the library tests did not run")
    missing = [k for k in KINDS if not SEEN.get(k) and k != "warning"]  # warnings are rare by design
    assert not missing, f"kinds never produced by a real call: {missing}"
    print("validated documents per kind:", dict(sorted(SEEN.items())))
    print("error codes seen:", sorted(ERROR_CODES_SEEN))
