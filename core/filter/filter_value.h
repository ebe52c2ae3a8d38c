/*
 * filter/filter_value.h - a vSphere event's value tree as Lua values and back,
 * for the filter stage (CONTRACTS §6).
 *
 * Provides: vsg_filter_push_value() (tree -> Lua: what a filter script
 * sees as event.data) and vsg_filter_to_value() (Lua -> tree: what is
 * encoded and sent after the script ran), plus the small tree helpers the
 * stage needs (deep copy, Go's time text).
 * Uses: vsphere/event.h (struct vsg_value), lua/json.h (vsg.null, array
 * markers), Lua 5.4, base/.
 * Owns: nothing. Trees are caller-owned; Lua values live in the state.
 *
 * Tree -> Lua (the payload as its JSON reads, as tables):
 *   OBJECT  table keyed by the JSON names (the xml name with the first
 *           ASCII letter upper-cased: Key, CreatedTime, Vm, ...)
 *   ARRAY   sequence 1..n, marked as a JSON array (vsg.json keeps [] as [])
 *   NULL    vsg.null (so a field that is present but null is visible)
 *   STRING  string      INT  integer     UINT  integer (or float above
 *   BOOL    boolean     DOUBLE  float          2^63-1)
 *   TIME    the RFC 3339 text the JSON payload carries
 *   BINARY  its base64 text (as in the JSON payload)
 *   MOREF   {Type = "VirtualMachine", Value = "vm-57"}
 * When two fields share a JSON name (possible only for elements unknown to
 * the schema, e.g. <foo> and <Foo>), the first one is shown.
 *
 * Lua -> tree, with the original tree as the type template: each field
 * of a template object is looked up by its JSON name and converted to the
 * template's kind, so a field the script did not change keeps its exact Go
 * encoding (its zone offset, float32-ness, omitempty, an unparsable time),
 * and a changed one keeps its type:
 *   - a string into a TIME field is parsed as RFC 3339 (kept as a plain
 *     string if it does not parse); into BINARY it is base64-decoded;
 *   - a number into INT/UINT/DOUBLE keeps the field's kind when it fits;
 *   - nil (a removed field) or vsg.null gives the Go zero value of a
 *     scalar field ("", 0, false, 0001-01-01T00:00:00Z) and null for
 *     objects, arrays, MoRefs and []byte: every field stays present, as in
 *     Go's encoding;
 *   - a value of another type, or a field the template has no type for
 *     (a nil pointer or slice), is converted generically.
 * Keys the template does not have are appended after the known fields,
 * sorted bytewise, converted generically; a key differing from a known
 * field only in the case of its first letter is an error (both would be
 * sent under the same JSON name). Generic conversion: nil/vsg.null ->
 * null, boolean, integer, float (not NaN or infinite), string; a table
 * with exactly the string fields Type and Value -> MoRef; a table marked
 * as a JSON array or with keys exactly 1..n (n > 0) -> array; any other
 * table -> object (string keys only, sorted). New keys are sent with their
 * first letter upper-cased in JSON (Go's rule for field names) and
 * lower-cased in XML; with `xml` set they must be XML names
 * ([A-Za-z_][A-Za-z0-9_.-]*). Functions, userdata (but vsg.null) and
 * threads cannot be sent. Nesting deeper than VSG_FILTER_MAX_DEPTH is an
 * error (cycles hit it).
 */
#ifndef VSG_FILTER_VALUE_H
#define VSG_FILTER_VALUE_H

#include <stddef.h>

#include <lua.h>

#include "base/err.h"
#include "vsphere/event.h"

/* Deepest data nesting vsg_filter_to_value() accepts. */
#define VSG_FILTER_MAX_DEPTH 64

/* Enough for the RFC 3339 text of any TIME value, NUL included. */
#define VSG_FILTER_TIME_BUFSZ 48

/*
 * [-0, +1, m] Pushes the Lua form of `v` (see the top of this file).
 * Needs the state's vsg.null and JSON markers (any vsg_lua_newstate()
 * state). Raises only on memory errors.
 */
void vsg_filter_push_value(lua_State *L, const struct vsg_value *v);

/*
 * [-0, +0, e] Converts the Lua value at `idx` into `out`, a NULL value
 * whose name the caller has set (and whose flags it may have set), with
 * `tmpl` as the type template (NULL for none). Raises a Lua error
 * "data.Vm.Name: <why>" for a value that cannot be sent; `path` is the
 * prefix used in messages ("data"). C memory is attached to `out` as it
 * is built, so after an error the caller frees `out` with
 * vsg_value_cleanup() and nothing leaks.
 */
void vsg_filter_to_value(lua_State *L, int idx, const struct vsg_value *tmpl,
                         struct vsg_value *out, int xml, const char *path);

/*
 * [-0, +0, m] 1 when the Lua value at `idx` is what vsg_filter_push_value()
 * made of `v`, unchanged (so converting it back would give `v` exactly and
 * the original payload can be sent instead of a re-encoding). Cheaper than
 * converting: no allocation, stops at the first difference. Conservative:
 * a value that would convert back to `v` by another route may answer 0.
 * Tables are read raw; nesting deeper than VSG_FILTER_MAX_DEPTH answers 0;
 * raises only on memory errors.
 */
int vsg_filter_value_same(lua_State *L, int idx, const struct vsg_value *v);

/* Makes `dst` (a NULL value; its name is kept) a deep copy of `src`'s
 * kind, flags and contents. VSG_ERR_NOMEM leaves a partial copy that
 * vsg_value_cleanup() frees. */
enum vsg_err vsg_filter_value_copy(struct vsg_value *dst,
                                   const struct vsg_value *src);

/* The RFC 3339 text of TIME value `v` exactly as the JSON payload writes
 * it (nanoseconds trimmed, in its own zone offset). */
enum vsg_err vsg_filter_time_text(const struct vsg_value *v, char *out,
                                  size_t size);

/* Writes into `out` (size >= strlen(name) + 1) the JSON name of the field
 * with xml name `name`. */
void vsg_filter_json_name(const char *name, char *out, size_t size);

#endif
