#!/usr/bin/env python3
"""Generate core/vsphere/schema.c from govmomi's vim25/types/types.go.

Usage: gen_schema.py <path/to/vim25/types> [-o core/vsphere/schema.c] [--check]

<path> is the vim25/types directory (or its types.go) of the govmomi
version the Go adapter vendored (see README.md next to this script). The
output is deterministic, so --check (compare instead of write) can prove the
committed file is up to date.

What is emitted: every data-object struct type of types.go except the SOAP
method wrappers (*RequestType, *Response, and `type X XRequestType`
aliases), i.e. everything an event can reach through its fields, through a
polymorphic BaseX slot (any subclass of X) or through an AnyType slot (any
registered type). For each type: its name, its parent (the embedded first
field), and its own fields in Go struct order with xml name, kind,
referenced type and the array / pointer / omitempty flags. The Go name of
every field is its xml name with the first letter upper-cased (checked
here; generation fails on an exception), so it is derived, not stored.
ManagedObjectReference's two fields (the `type` attribute and the chardata)
are named "type" and "value" (Go: Type, Value). Strings live in
one deduplicated pool; types are sorted by name for binary search.
"""

import argparse
import hashlib
import os
import re
import sys

GOVMOMI_VERSION = "v0.24.1-0.20210127152625-854ba4efe87e"

# Kinds; must match enum vsg_schema_kind in core/vsphere/schema.h.
KINDS = [
    "STRING", "ENUM", "BOOL", "UINT8", "INT16", "INT32", "INT64",
    "FLOAT32", "FLOAT64", "TIME", "BINARY", "MOREF", "OBJECT", "IFACE",
    "ANY",
]
SCALARS = {
    "string": "STRING", "bool": "BOOL", "byte": "UINT8", "int16": "INT16",
    "int32": "INT32", "int64": "INT64", "float32": "FLOAT32",
    "float64": "FLOAT64", "time.Time": "TIME",
}
F_ARRAY, F_PTR, F_OMITEMPTY = 0x01, 0x02, 0x04
NONE = 0xFFFF
MAX_DEPTH = 16  # VSG_SCHEMA_MAX_DEPTH in schema.h
MAX_FIELDS = 512  # VSG_SCHEMA_MAX_FIELDS in schema.h


def parse(types_dir):
    path = types_dir
    if os.path.isdir(path):
        path = os.path.join(path, "types.go")
    src = open(path, encoding="utf-8").read()
    enum_path = os.path.join(os.path.dirname(path), "enum.go")
    enums = set()
    if os.path.exists(enum_path):
        for m in re.finditer(r"^type (\w+) string$",
                             open(enum_path, encoding="utf-8").read(), re.M):
            enums.add(m.group(1))
    structs = {}
    cur = None
    for lineno, line in enumerate(src.split("\n"), 1):
        m = re.match(r"^type (\w+) struct \{$", line)
        if m:
            cur = m.group(1)
            structs[cur] = {"parent": None, "fields": []}
            continue
        if cur is None:
            continue
        if line == "}":
            cur = None
            continue
        s = line.strip()
        if not s or s.startswith("//"):
            continue
        m = re.match(r"^(\w+)$", s)
        if m:
            if structs[cur]["fields"] or structs[cur]["parent"]:
                sys.exit("%s:%d: embedded struct not first" % (path, lineno))
            structs[cur]["parent"] = m.group(1)
            continue
        m = re.match(r'^(\w+)\s+(\S+)\s+`xml:"([^"]*)"`$', s)
        if not m:
            sys.exit("%s:%d: cannot parse %r" % (path, lineno, line))
        structs[cur]["fields"].append((m.group(1), m.group(2), m.group(3)))
    digest = hashlib.sha256(src.encode("utf-8")).hexdigest()[:16]
    return structs, enums, digest


def classify(gotype, structs, enums):
    """(kind, referenced type name or None, flags) of a Go field type."""
    flags = 0
    t = gotype
    if t.startswith("[]") and t != "[]byte":
        flags |= F_ARRAY
        t = t[2:]
    if t.startswith("*"):
        flags |= F_PTR
        t = t[1:]
    if t == "[]byte":
        return "BINARY", None, flags
    if t in SCALARS:
        return SCALARS[t], None, flags
    if t == "ManagedObjectReference":
        return "MOREF", None, flags
    if t == "AnyType":
        return "ANY", None, flags
    if t.startswith("Base") and t[4:] in structs and t not in structs:
        return "IFACE", t[4:], flags
    if t in enums:
        return "ENUM", None, flags
    if t in structs:
        return "OBJECT", t, flags
    raise SystemExit("unknown Go type %r" % gotype)


def is_method_wrapper(name, structs):
    if name.endswith("RequestType"):
        return True
    if name.endswith("Response") and set(
            f[0] for f in structs[name]["fields"]) <= {"Returnval"}:
        return True
    return False


def build(structs, enums):
    names = sorted(n for n in structs if not is_method_wrapper(n, structs))
    keep = set(names)
    for n in names:
        p = structs[n]["parent"]
        if p and p not in keep:
            sys.exit("parent %s of %s is not emitted" % (p, n))
    index = {n: i for i, n in enumerate(names)}
    types, fields = [], []
    for n in names:
        st = structs[n]
        first = len(fields)
        for goname, gotype, tag in st["fields"]:
            parts = tag.split(",")
            xmlname = parts[0]
            kind, ref, flags = classify(gotype, structs, enums)
            if "omitempty" in parts[1:]:
                flags |= F_OMITEMPTY
            if ref is not None and ref not in index:
                sys.exit("%s.%s references unemitted %s" % (n, goname, ref))
            if n == "ManagedObjectReference":
                xmlname = goname[0].lower() + goname[1:]
            if goname != xmlname[:1].upper() + xmlname[1:]:
                sys.exit("%s.%s: Go name is not the xml name %r with its "
                         "first letter upper-cased; the schema derives Go "
                         "names, so teach it this exception" %
                         (n, goname, xmlname))
            fields.append((xmlname, goname, kind,
                           index[ref] if ref else NONE, flags))
        parent = index[st["parent"]] if st["parent"] else NONE
        types.append((n, parent, first, len(fields) - first))
    if len(types) >= NONE or len(fields) >= NONE:
        sys.exit("schema too large for 16-bit indexes")
    check_shadowing(types, fields)
    for i in range(len(types)):
        depth, p = 1, types[i][1]
        while p != NONE:
            depth, p = depth + 1, types[p][1]
        if depth >= MAX_DEPTH:
            sys.exit("%s: parent chain of %d exceeds VSG_SCHEMA_MAX_DEPTH" %
                     (types[i][0], depth))
        total, p = types[i][3], types[i][1]
        while p != NONE:
            total, p = total + types[p][3], types[p][1]
        if total > MAX_FIELDS:
            sys.exit("%s: %d fields exceed VSG_SCHEMA_MAX_FIELDS" %
                     (types[i][0], total))
    return types, fields


def check_shadowing(types, fields):
    """Go drops an embedded field that a subclass redeclares; our lookup
    walks subclass first, so that matches, but flattening would emit both.
    Refuse to generate until the runtime handles it."""
    def own(i):
        _, _, first, n = types[i]
        return [fields[j][0] for j in range(first, first + n)]
    for i, (name, parent, _, _) in enumerate(types):
        seen = set(own(i))
        p = parent
        while p != NONE:
            dup = seen & set(own(p))
            if dup:
                sys.exit("%s redeclares %s of %s" % (name, sorted(dup),
                                                     types[p][0]))
            seen |= set(own(p))
            p = types[p][1]


class Pool:
    def __init__(self):
        self.buf = []
        self.off = {}
        self.size = 0

    def add(self, s):
        if s not in self.off:
            self.off[s] = self.size
            self.buf.append(s)
            self.size += len(s.encode("utf-8")) + 1
        return self.off[s]


def c_string_lines(strings):
    out, line = [], ""
    for s in strings:
        piece = s.replace("\\", "\\\\").replace('"', '\\"') + "\\0"
        if len(line) + len(piece) > 72:
            out.append('    "%s"' % line)
            line = ""
        line += piece
    if line:
        out.append('    "%s"' % line)
    return "\n".join(out)


def emit(types, fields, digest):
    pool = Pool()
    pool.add("")
    trow, frow = [], []
    for name, parent, first, n in types:
        trow.append((pool.add(name), parent, first, n))
    for xmlname, goname, kind, ref, flags in fields:
        frow.append((pool.add(xmlname), ref, kind, flags))
    nodes = len(types)
    lines = []
    w = lines.append
    w("/*")
    w(" * schema.c - GENERATED by tools/schema/gen_schema.py; DO NOT EDIT.")
    w(" *")
    w(" * Source: github.com/vmware/govmomi@%s" % GOVMOMI_VERSION)
    w(" * vim25/types/types.go sha256[:16] %s" % digest)
    w(" * %d types, %d fields, %d bytes of names." % (nodes, len(fields),
                                                      pool.size))
    w(" */")
    w('#include "vsphere/schema.h"')
    w("")
    w("/* All names, NUL-separated; offsets index into this array. */")
    w("static const char schema_pool[%d] =" % pool.size)
    body = c_string_lines(pool.buf)
    # The final \0 is the array's implicit terminator.
    assert body.endswith('\\0"')
    w(body[:-3] + '";')
    w("")
    w("static const struct vsg_schema_type schema_types[%d] = {" % nodes)
    for off, parent, first, n in trow:
        w("    {%d, %d, %d, %d}," % (off, parent, first, n))
    w("};")
    w("")
    w("static const struct vsg_schema_field schema_fields[%d] = {" %
      len(fields))
    for name, ref, kind, flags in frow:
        fl = []
        if flags & F_ARRAY:
            fl.append("VSG_SCHEMA_F_ARRAY")
        if flags & F_PTR:
            fl.append("VSG_SCHEMA_F_PTR")
        if flags & F_OMITEMPTY:
            fl.append("VSG_SCHEMA_F_OMITEMPTY")
        w("    {%d, %d, VSG_SCHEMA_%s, %s}," %
          (name, ref, kind, "|".join(fl) or "0"))
    w("};")
    w("")
    w("const struct vsg_schema vsg_schema_vim25 = {")
    w('    "%s",' % GOVMOMI_VERSION)
    w("    schema_pool, sizeof schema_pool,")
    w("    schema_types, %d," % nodes)
    w("    schema_fields, %d," % len(fields))
    w("};")
    return "\n".join(lines) + "\n", pool.size


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("types", help="govmomi vim25/types dir or types.go")
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--check", action="store_true",
                    help="compare with --output instead of writing it")
    args = ap.parse_args()
    structs, enums, digest = parse(args.types)
    types, fields = build(structs, enums)
    text, poolsize = emit(types, fields, digest)
    if args.check:
        with open(args.output, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("%s is out of date; run tools/schema/gen_schema.py"
                         % args.output)
        return
    if args.output == "-":
        sys.stdout.write(text)
    else:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stderr.write("schema: %d types, %d fields, %d bytes of names\n" %
                     (len(types), len(fields), poolsize))


if __name__ == "__main__":
    main()
