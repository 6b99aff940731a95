#!/usr/bin/env python3
"""Which public items of letterseal have a runnable example in their docs.

Usage:
    python3 repo-tests/tools/doc_examples.py [--scope user-facing|all] [--missing | --list]
                                              [--json] [--check] [--root DIR] [PATH ...]

With no PATH, scans the scope's files (default: the user-facing ones, see USER_FACING below);
PATHs (files or directories under a crate's src/) replace them. Standard library only.

What counts as an item: `pub fn`, `pub struct`, `pub enum`, `pub trait`, `pub const`,
`pub static` and `pub type` at module level, `pub fn`/`pub const`/`pub type` inside an inherent
`impl` block, and every `fn` declared in a `pub trait`. Not counted: `pub(crate)`/`pub(super)`
items, struct fields, enum variants, re-exports (`pub use`), trait-impl methods (they carry no
`pub`; derived impls are not in the source at all), anything inside `#[cfg(test)]` modules or
function bodies, and items marked `#[doc(hidden)]`. In the user-facing scope, items gated on
`feature = "hazmat"` or named `hazmat_*` are left out too (they are not for applications).

What counts as an example: a Rust code block (a fence with no language or with `rust`,
`no_run`, `should_panic`, `compile_fail`, `edition…`; not `ignore`, `text`, `sh`, `json`, …).
An item is
  * **direct** when its own doc comment has one;
  * **via** when it has none of its own but a visible (not `# `-hidden) line of one of these
    blocks *calls or names* it:
      - the doc of the type its `impl` block is for (for methods and associated items),
      - the module's `//!` doc (of the file that declares the item, and for a method also of the
        file that declares its type),
      - the doc of any item its own doc comment links to (`[`Self::export`]`,
        `[`Account`]`, `[`text`](Account::receive)`), which is how a method points at a
        richer example ("See the example on [`Account`]").
    "Calls" means `.name(`, `::name(` or `name(` for a function or method (`name::<…>(` too),
    and the name as a whole word for a type, trait, const or type alias. Methods are matched by
    name only, so a same-named method of another type in the same block also matches; the
    blocks searched are few and local, which keeps that rare.
  * **missing** otherwise.

Output: one line per file with the totals (and whether its module page has an example), then
the missing items with `--missing` (every item with its status and where its example is with
`--list`). `--check` exits with status 1 if any item is missing (for CI). `--root` scans another
checkout (for a before/after comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

# The items a client, a server or an auditor calls (issue 18 item 2), file by file: "*" is
# every type and function of the file (consts and statics are values, not calls, and are left
# out of the user-facing count); a set names the types (with all their methods and associated
# items) and free functions that are in scope; "Type::method" names one method alone. The lower
# layers (pairwise, group, kdf, aead, codec, labels, device, most of keys, the legacy building
# blocks) are out of scope except for the few items a user-facing flow takes.
ALL = "*"
USER_FACING: dict[str, object] = {
    # client: the account façade, its ids, time, safety numbers, persistence
    "src/account/mod.rs": ALL,
    "src/account/device_list.rs": ALL,  # also the server's device-list verification
    "src/account/envelope.rs": ALL,
    "src/account/error.rs": ALL,
    "src/account/user.rs": ALL,
    "src/ids.rs": ALL,
    "src/time.rs": ALL,
    "src/safety_number.rs": ALL,
    "src/state.rs": ALL,
    "src/group/roster.rs": {"GroupId"},
    "src/message/content.rs": {"ContentType"},
    "src/keys/identity.rs": {
        "IdentityPublicKey::from_bytes",
        "IdentityPublicKey::to_bytes",
        "IdentityPublicKey::as_bytes",
        "IdentityPublicKey",
    },
    "src/keys/sealing.rs": {
        "SealingPublicKey",
        "SealingPublicKey::from_bytes",
        "SealingPublicKey::to_bytes",
        "SealingPublicKey::as_bytes",
        "SealingPublicKey::key_id",
    },
    "src/keys/mod.rs": {"KeyError"},
    # client: attachments
    "src/attachment/mod.rs": ALL,
    "src/attachment/descriptor.rs": ALL,
    "src/attachment/stream.rs": {
        "sealed_len",
        "chunk_count",
        "AttachmentSealer::new",
        "AttachmentSealer::new_with_binding",
        "AttachmentSealer::new_hedged",
        "AttachmentSealer::header",
        "AttachmentSealer::update_len",
        "AttachmentSealer::finish_len",
        "AttachmentSealer::update",
        "AttachmentSealer::update_into",
        "AttachmentSealer::finish",
        "AttachmentSealer::finish_into",
        "AttachmentSealer",
        "AttachmentOpener",
        "VerifiedOpener",
        "RandomAccess",
    },
    # server
    "src/account/relay.rs": ALL,
    "src/registration/mod.rs": ALL,
    "src/registration/bundle.rs": ALL,
    "src/registration/one_time.rs": ALL,
    # auditor
    "test-vectors/src/lib.rs": ALL,
    "test-vectors/src/generate/mod.rs": ALL,
    # legacy client entry points (crate letterseal-legacy)
    "legacy/src/lib.rs": {"LegacyError", "Opened"},
    "legacy/src/session.rs": ALL,
    "legacy/src/keys.rs": {
        "X25519PublicKey",
        "X25519SecretKey",
        "LegacyKeyPair",
        "RawScalarKeyPair",
        "LegacyPublicKey",
        "LegacyPrivateKey",
        "find_key",
    },
    "legacy/src/ids.rs": {"LineId", "LegacyKeyId", "LegacyContentType"},
    "legacy/src/payload.rs": {"Payload", "Location"},
    "legacy/src/v1.rs": {"seal_v1", "open_v1"},
    "legacy/src/v2.rs": {"seal_v2", "open_v2"},
    "legacy/src/group.rs": {
        "GroupKey",
        "SharedGroupKey",
        "UnwrappedGroupKey",
        "WeakKeyFlags",
        "WeakKeyPolicy",
        "wrap_group_key",
        "unwrap_group_key",
        "seal_group",
        "open_group",
    },
    "legacy/src/media.rs": {
        "MediaKeyMaterial::generate",
        "MediaKeyMaterial::from_bytes",
        "MediaKeyMaterial::from_slice",
        "MediaKeyMaterial::as_bytes",
        "MediaKeyMaterial",
        "MediaSealer",
        "MediaVerifier",
        "VerifiedMedia",
        "MediaDecryptor",
        "seal_media",
        "open_media",
    },
}
SKIP_FILES = {"tests.rs", "limits_tests.rs", "pq_tests.rs"}

RUST_FENCE_OK = {"", "rust", "no_run", "should_panic", "compile_fail"}

ITEM_RE = re.compile(
    r"^pub\s+(?:const\s+(?=(?:unsafe\s+)?(?:extern\s+\"[^\"]*\"\s+)?fn\b))?(?:async\s+)?"
    r"(?:unsafe\s+)?(?:extern\s+\"[^\"]*\"\s+)?"
    r"(?P<kind>fn|struct|enum|trait|const|static|type|union)\s+(?:mut\s+)?(?P<name>[A-Za-z_]\w*)"
)
TRAIT_FN_RE = re.compile(r"^(?:unsafe\s+)?fn\s+(?P<name>[A-Za-z_]\w*)")
IMPL_RE = re.compile(r"^(?:unsafe\s+)?impl\b")
TRAIT_RE = re.compile(r"^pub\s+(?:unsafe\s+)?trait\s+(?P<name>\w+)")
MOD_RE = re.compile(r"^(?:pub(?:\([^)]*\))?\s+)?mod\s+(?P<name>\w+)")


@dataclass
class Item:
    file: str
    kind: str
    name: str
    owner: str | None  # the impl's or trait's type, for methods and associated items
    line: int
    docs: list[str]
    attrs: str
    status: str = "missing"
    via: str = ""

    @property
    def qualname(self) -> str:
        return f"{self.owner}::{self.name}" if self.owner else self.name


@dataclass
class FileScan:
    path: str
    module_docs: list[str] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


def strip_attrs(header: str) -> tuple[str, str]:
    """Splits leading `#[...]` attributes off a header; returns (attributes, rest)."""
    attrs = []
    s = header.lstrip()
    while s.startswith("#["):
        depth = 0
        end = None
        for i, ch in enumerate(s):
            if ch == "[":
                depth += 1
            elif ch == "]":
                depth -= 1
                if depth == 0:
                    end = i
                    break
        if end is None:
            break
        attrs.append(s[: end + 1])
        s = s[end + 1 :].lstrip()
    return " ".join(attrs), s


def impl_type(header: str) -> str | None:
    """The type an `impl` block is for, or None for a trait impl."""
    h = re.sub(r"\s+", " ", header)
    h = re.sub(r"^(unsafe )?impl", "", h).strip()
    # Drop the impl's generics.
    if h.startswith("<"):
        depth = 0
        for i, ch in enumerate(h):
            if ch == "<":
                depth += 1
            elif ch == ">":
                depth -= 1
                if depth == 0:
                    h = h[i + 1 :].strip()
                    break
    h = re.split(r"\bwhere\b", h)[0]
    if re.search(r"\bfor\b", h):
        return None
    m = re.match(r"(?:[\w:]+::)?(\w+)", h.strip())
    return m.group(1) if m else None


def scan(path: str) -> FileScan:
    """Finds the public items of one file with their doc comments (see the module docs)."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    out = FileScan(path)
    # Block stack entries: (kind, type name); kinds: "mod", "impl", "trait", "skip", "other".
    stack: list[tuple[str, str | None]] = [("mod", None)]
    header_code = ""  # code since the last `;`, `{` or `}` (strings and comments blanked)
    header_line = 0
    header_docs: list[str] = []
    doc_buffer: list[str] = []
    paren = 0
    i = 0
    n = len(text)
    line = 1

    def ctx_records() -> bool:
        return stack[-1][0] in ("mod", "impl", "trait")

    def finish_header(terminator: str) -> str:
        """Classifies the header ending at `{` or `;`; returns the block kind for `{`."""
        nonlocal header_code, header_docs
        attrs, rest = strip_attrs(header_code)
        rest = re.sub(r"\s+", " ", rest).strip()
        kind = "other"
        top = stack[-1]
        if terminator == "{":
            if IMPL_RE.match(rest):
                kind = "impl"
            elif re.match(r"^(?:pub(?:\([^)]*\))?\s+)?(?:unsafe\s+)?trait\b", rest):
                kind = "trait"
            elif MOD_RE.match(rest):
                kind = "mod"
            if "cfg(test)" in attrs.replace(" ", "") and kind == "mod":
                kind = "skip"
            elif "cfg(test)" in attrs.replace(" ", ""):
                kind = "skip"
        if top[0] in ("mod", "impl") or (top[0] == "trait" and top[1] is not None):
            recorded = None
            if top[0] == "trait":
                m = TRAIT_FN_RE.match(rest)
                if m:
                    recorded = ("fn", m.group("name"))
            else:
                m = ITEM_RE.match(rest)
                if m and not (top[0] == "impl" and top[1] is None):
                    k = m.group("kind")
                    if top[0] == "mod" or k in ("fn", "const", "type"):
                        recorded = (k, m.group("name"))
            hidden = "doc(hidden)" in attrs.replace(" ", "") or "cfg(test)" in attrs.replace(" ", "")
            if recorded and not hidden:
                owner = top[1] if top[0] in ("impl", "trait") else None
                out.items.append(
                    Item(path, recorded[0], recorded[1], owner, header_line, header_docs, attrs)
                )
        if terminator == "{":
            if kind == "impl":
                return "impl:" + (impl_type(rest) or "")
            if kind == "trait":
                m = TRAIT_RE.match(rest)
                return "trait:" + (m.group("name") if m else "")
        return kind

    while i < n:
        ch = text[i]
        # Comments.
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            comment = text[i:end]
            if comment.startswith("//!"):
                out.module_docs.append(comment[3:])
            elif comment.startswith("///") and not comment.startswith("////"):
                doc_buffer.append(comment[3:])
            i = end
            continue
        if text.startswith("/*", i):
            depth = 0
            j = i
            while j < n:
                if text.startswith("/*", j):
                    depth += 1
                    j += 2
                elif text.startswith("*/", j):
                    depth -= 1
                    j += 2
                    if depth == 0:
                        break
                else:
                    j += 1
            line += text.count("\n", i, j)
            header_code += " "
            i = j
            continue
        # Strings (normal, byte, raw): braces and separators inside are blanked.
        m = re.compile(r'(?:b|c)?r(#*)"').match(text, i) if ch in "bcr" else None
        if m and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            close = '"' + m.group(1)
            end = text.find(close, m.end())
            end = n if end == -1 else end + len(close)
            body = text[i:end]
            line += body.count("\n")
            header_code += re.sub(r"[{}();\[\]]", " ", body)
            i = end
            continue
        if ch == '"' or (ch == "b" and text.startswith('b"', i)):
            j = i + (2 if ch == "b" else 1)
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            body = text[i : j + 1]
            line += body.count("\n")
            header_code += re.sub(r"[{}();\[\]]", " ", body)
            i = j + 1
            continue
        if ch == "'":
            m = re.compile(r"'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'").match(text, i)
            if m:
                header_code += "' '"
                i = m.end()
                continue
        if ch == "\n":
            line += 1
            header_code += ch
            i += 1
            continue
        if not header_code.strip() and not ch.isspace():
            header_line = line
            header_docs = doc_buffer
            doc_buffer = []
        if ch in "([":
            paren += 1
        elif ch in ")]":
            paren = max(0, paren - 1)
        if ch == ";" and paren == 0:
            finish_header(";")
            header_code = ""
            header_docs = []
        elif ch == "{" and paren == 0:
            kind = finish_header("{")
            if stack[-1][0] in ("skip", "other"):
                stack.append(("other", None))
            elif kind.startswith("impl:"):
                stack.append(("impl", kind[5:] or None))
            elif kind.startswith("trait:"):
                stack.append(("trait", kind[6:] or None))
            else:
                stack.append((kind, None))
            header_code = ""
            header_docs = []
            doc_buffer = []
        elif ch == "}" and paren == 0:
            if len(stack) > 1:
                stack.pop()
            header_code = ""
            header_docs = []
            doc_buffer = []
        elif ch == "{" or ch == "}":
            header_code += " "
        else:
            header_code += ch
        i += 1
    return out


def crate_src(path: str) -> str:
    """The `src/` directory of the crate this file belongs to (the workspace has several:
    `src/`, `legacy/src/`, `test-vectors/src/`)."""
    directory = os.path.dirname(os.path.abspath(path))
    while os.path.dirname(directory) != directory:
        if os.path.basename(directory) == "src" and os.path.isfile(os.path.join(directory, "lib.rs")):
            return directory
        directory = os.path.dirname(directory)
    return os.path.join(REPO, "src")


def module_is_public(path: str) -> bool:
    """Whether rustdoc renders the `//!` docs of this file: its module and every parent are
    `pub mod` (files of private modules hold items that are re-exported one by one)."""
    src = crate_src(path)
    path = os.path.abspath(path)
    while True:
        directory, name = os.path.split(path)
        if name in ("lib.rs",) and directory == src:
            return True
        if name == "mod.rs":
            module = os.path.basename(directory)
            parent_dir = os.path.dirname(directory)
        else:
            module = name[:-3]
            parent_dir = directory
        parent = None
        for candidate in (os.path.join(parent_dir, "mod.rs"), parent_dir + ".rs"):
            if os.path.isfile(candidate):
                parent = candidate
                break
        if parent_dir == src:
            parent = os.path.join(src, "lib.rs")
        if parent is None:
            return False
        with open(parent, encoding="utf-8") as f:
            if not re.search(rf"^\s*pub mod {re.escape(module)}\s*;", f.read(), re.M):
                return False
        if parent.endswith("lib.rs"):
            return True
        path = parent


def parent_module_file(path: str) -> str | None:
    """The file of the module that declares this file's module."""
    src = crate_src(path)
    directory, name = os.path.split(os.path.abspath(path))
    parent_dir = os.path.dirname(directory) if name == "mod.rs" else directory
    if parent_dir == src:
        return os.path.join(src, "lib.rs")
    for candidate in (os.path.join(parent_dir, "mod.rs"), parent_dir + ".rs"):
        if os.path.isfile(candidate):
            return candidate
    return None


def rendered_module_file(path: str) -> str | None:
    """The file whose `//!` docs are the page of the module an item of `path` appears in:
    the file itself if its module is public, else that of the nearest public ancestor (a
    private module's items are re-exported there)."""
    current: str | None = path
    while current is not None and not module_is_public(current):
        current = parent_module_file(current)
        if current is not None and current.endswith("lib.rs"):
            return None
    return current


def code_blocks(docs: list[str]) -> list[list[str]]:
    """The Rust code blocks of a doc comment, as lists of lines."""
    blocks = []
    current: list[str] | None = None
    fence = ""
    for raw in docs:
        s = raw[1:] if raw.startswith(" ") else raw
        stripped = s.strip()
        if current is None:
            m = re.match(r"^(`{3,}|~{3,})\s*([\w,\s-]*)$", stripped)
            if m:
                fence = m.group(1)
                langs = {t.strip() for t in m.group(2).split(",") if t.strip()}
                langs = {t for t in langs if not t.startswith("edition")}
                is_rust = all(t in RUST_FENCE_OK for t in langs)
                current = [] if is_rust else ["__not_rust__"]
        else:
            if stripped.startswith(fence) and stripped.strip("`~") == "":
                if current[:1] != ["__not_rust__"]:
                    blocks.append(current)
                current = None
            else:
                current.append(s)
    return blocks


def visible(block: list[str]) -> str:
    """The lines of a code block a reader sees (rustdoc hides `# ` lines)."""
    return "\n".join(
        ln for ln in block if not (ln.strip() == "#" or ln.lstrip().startswith("# "))
    )


def mentions(code: str, item: Item) -> bool:
    name = re.escape(item.name)
    if item.kind == "fn":
        return re.search(rf"(?<![\w]){name}\s*(?:::<[^()]*>)?\s*\(", code) is not None
    return re.search(rf"(?<![\w]){name}(?![\w])", code) is not None


LINK_RE = re.compile(r"\[`?([\w:]+)(?:\(\))?`?\](?!\()|\]\(([\w:]+)(?:\(\))?\)")


def link_targets(docs: list[str]) -> list[tuple[str | None, str]]:
    """(owner, name) pairs of the intra-doc links of a doc comment."""
    out = []
    for m in LINK_RE.finditer("\n".join(docs)):
        path = m.group(1) or m.group(2)
        parts = [p for p in path.split("::") if p and p not in ("crate", "super", "self")]
        if not parts:
            continue
        owner = parts[-2] if len(parts) >= 2 else None
        out.append((owner, parts[-1]))
    return out


def classify(scans: list[FileScan]) -> None:
    all_items = [it for s in scans for it in s.items]
    types = {}
    for it in all_items:
        if it.owner is None and it.kind in ("struct", "enum", "trait", "type", "union"):
            types.setdefault(it.name, []).append(it)
    # The `//!` docs of a private module are never rendered: an item there is re-exported by
    # the nearest public ancestor, whose module page is the one a reader sees.
    cache = {s.path: s.module_docs for s in scans}

    def docs_of(path: str) -> list[str]:
        if path not in cache:
            cache[path] = scan(path).module_docs
        return cache[path]

    module_docs = {}
    for s in scans:
        page = rendered_module_file(s.path)
        module_docs[s.path] = docs_of(page) if page else []
    by_name: dict[str, list[Item]] = {}
    for it in all_items:
        by_name.setdefault(it.name, []).append(it)

    for it in all_items:
        if code_blocks(it.docs):
            it.status = "direct"
            continue
        sources: list[tuple[str, list[str]]] = []
        linking: list[tuple[Item, str | None]] = [(it, it.owner)]
        if it.owner:
            for t in types.get(it.owner, []):
                sources.append((f"{t.name} (type doc)", t.docs))
                sources.append((f"{rel(t.file)} (module doc)", module_docs.get(t.file, [])))
                linking.append((t, t.name))
        sources.append((f"{rel(it.file)} (module doc)", module_docs.get(it.file, [])))
        for source, self_type in linking:
            for owner, name in link_targets(source.docs):
                if owner == "Self":
                    owner = self_type
                # `module::item` names a free item; `Type::item` an associated one.
                if owner and owner[:1].islower():
                    owner = None
                for target in by_name.get(name, []):
                    if target is it or (owner and target.owner != owner):
                        continue
                    sources.append((f"[{target.qualname}]", target.docs))
        for label, docs in sources:
            if any(mentions(visible(b), it) for b in code_blocks(docs)):
                it.status = "via"
                it.via = label
                break


def rel(path: str) -> str:
    return os.path.relpath(path, REPO)


def collect_files(paths: list[str]) -> list[str]:
    files = []
    for p in paths:
        full = p if os.path.isabs(p) else os.path.join(REPO, p)
        if os.path.isdir(full):
            for root, _, names in os.walk(full):
                for name in sorted(names):
                    if name.endswith(".rs") and name not in SKIP_FILES:
                        files.append(os.path.join(root, name))
        elif os.path.isfile(full):
            files.append(full)
        else:
            sys.exit(f"no such file or directory: {p}")
    return sorted(set(files))


def user_facing(it: Item) -> bool:
    if it.name.startswith("hazmat") or '"hazmat"' in it.attrs:
        return False
    if it.kind in ("const", "static"):
        return False
    spec = USER_FACING.get(rel(it.file))
    if spec is None:
        return False
    if spec == ALL:
        return True
    assert isinstance(spec, set)
    if it.owner is None:
        return it.name in spec
    if f"{it.owner}::{it.name}" in spec:
        return True
    # A listed type brings all its methods unless the spec names some of them alone.
    named = any(x.startswith(it.owner + "::") for x in spec)
    return it.owner in spec and not named


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", help="files or directories (default: the scope's)")
    ap.add_argument("--scope", choices=["user-facing", "all"], default="user-facing")
    ap.add_argument("--missing", action="store_true", help="list the items without an example")
    ap.add_argument("--list", action="store_true", help="list every item with its status")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ap.add_argument("--root", help="the crate to scan (default: this repository)")
    ap.add_argument("--check", action="store_true", help="exit 1 if any item has no example")
    args = ap.parse_args()
    if args.root:
        global REPO
        REPO = os.path.abspath(args.root)

    if args.paths:
        paths = args.paths
    elif args.scope == "user-facing":
        paths = list(USER_FACING)
    else:
        paths = ["src"]
    files = collect_files(paths)
    scans = [scan(f) for f in files]
    classify(scans)
    if args.scope == "user-facing":
        for s in scans:
            s.items = [it for it in s.items if user_facing(it)]

    rows = []
    for s in scans:
        counts = {"direct": 0, "via": 0, "missing": 0}
        for it in s.items:
            counts[it.status] += 1
        walkthrough = bool(code_blocks(s.module_docs)) and module_is_public(s.path)
        rows.append((rel(s.path), len(s.items), counts, walkthrough))
    total = {"items": 0, "direct": 0, "via": 0, "missing": 0}
    for _, n, c, _ in rows:
        total["items"] += n
        for k in c:
            total[k] += c[k]

    if args.json:
        print(
            json.dumps(
                {
                    "files": [
                        {"file": f, "items": n, **c, "module_example": w} for f, n, c, w in rows
                    ],
                    "total": total,
                    "missing": [
                        f"{rel(it.file)}:{it.line} {it.kind} {it.qualname}"
                        for s in scans
                        for it in s.items
                        if it.status == "missing"
                    ],
                },
                indent=1,
            )
        )
        return 0
    width = max(len(r[0]) for r in rows) if rows else 10
    print(f"{'file':<{width}}  items direct   via missing  module-example")
    for f, n, c, w in rows:
        if n == 0 and not w:
            continue
        print(
            f"{f:<{width}}  {n:5} {c['direct']:6} {c['via']:5} {c['missing']:7}  {'yes' if w else '-'}"
        )
    covered = total["direct"] + total["via"]
    print(
        f"{'total':<{width}}  {total['items']:5} {total['direct']:6} {total['via']:5} "
        f"{total['missing']:7}  ({covered}/{total['items']} with an example)"
    )
    if args.missing or args.list or (args.check and total["missing"]):
        print()
        for s in scans:
            for it in s.items:
                if args.list or it.status == "missing":
                    extra = f" (via {it.via})" if it.status == "via" else ""
                    print(f"{it.status:8} {rel(it.file)}:{it.line} {it.kind} {it.qualname}{extra}")
    if args.check and total["missing"]:
        print(f"\n{total['missing']} item(s) without an example", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
