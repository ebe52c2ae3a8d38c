/*
 * json.h - JSON <-> Lua values for the host's states (vsg.json and C).
 *
 * Provides: the vsg.null sentinel (vsg_lua_pushnull(), vsg_lua_isnull()),
 * the array/object markers (vsg_lua_json_setarray(),
 * vsg_lua_json_setobject()), and the C entry points the filter stage uses
 * to turn a Lua value into JSON text and back (vsg_lua_json_encode(),
 * vsg_lua_json_decode()). The Lua side is vsg.json (see lua_json.c).
 * Uses: lua/host.h, base/buf.h, cJSON (parsing only).
 * Owns: nothing; output goes to a caller-owned struct vsg_buf.
 *
 * Mapping (both directions):
 *  - JSON null <-> vsg.null (a light userdata; it is truthy in Lua). A nil
 *    at the top level also encodes as null.
 *  - Integers stay exact: a JSON number written without '.', 'e' or 'E'
 *    that fits int64 decodes as a Lua integer (so 2^53+1 survives), any
 *    other number as a float; Lua integers encode in decimal, floats with
 *    up to 17 significant digits and always with a '.' or exponent (1.0
 *    stays 1.0). NaN and infinities cannot be encoded.
 *  - Arrays: decode sets the array marker on every array, so [] stays [].
 *    Encoding a table: marked array -> array (its keys must be 1..n);
 *    marked object -> object; unmarked -> array when its keys are exactly
 *    1..n (n > 0), otherwise object, so an empty unmarked table is {}.
 *    Object keys are strings, integer keys are written in decimal; other
 *    key types are an error.
 *  - Objects encode with their keys sorted bytewise, so the output is
 *    deterministic. Depth is limited to 1000 (cycles hit it).
 *  - Strings: bytes that are not valid UTF-8 encode as \ufffd; decode
 *    cannot keep a \u0000 escape (the string ends there, a cJSON limit).
 */
#ifndef VSG_LUA_JSON_H
#define VSG_LUA_JSON_H

#include <stddef.h>

#include <lua.h>

#include "base/buf.h"
#include "base/err.h"

/* Deepest nesting encode and decode accept (cJSON's own limit). */
#define VSG_LUA_JSON_MAX_DEPTH 1000

/* [-0, +1, -] Pushes vsg.null. */
void vsg_lua_pushnull(lua_State *L);

/* [-0, +0, -] Nonzero when the value at `idx` is vsg.null. */
int vsg_lua_isnull(lua_State *L, int idx);

/* [-0, +0, -] Marks the table at `idx` as a JSON array (sets the shared
 * marker metatable, replacing any other). */
void vsg_lua_json_setarray(lua_State *L, int idx);

/* [-0, +0, -] Marks the table at `idx` as a JSON object. */
void vsg_lua_json_setobject(lua_State *L, int idx);

/*
 * [-0, +0, -] Appends the JSON text of the value at `idx` to `out`.
 * Reads tables raw (no metamethods run). Never raises. VSG_ERR_INVAL with
 * a message such as "cannot encode a function value (at .data.f)",
 * VSG_ERR_TOOBIG when `out` would pass its maximum, VSG_ERR_NOMEM. On
 * error `out` may hold a partial text.
 */
enum vsg_err vsg_lua_json_encode(lua_State *L, int idx, struct vsg_buf *out,
                                 struct vsg_error *err);

/*
 * [-0, +(1|0), -] Parses `len` bytes of JSON text and pushes the value.
 * `L` must be the main lua_State of a struct vsg_lua (vsg_lua_L()); the
 * allocation counts against its memory cap. Runs protected. On failure pushes nothing: VSG_ERR_PARSE ("invalid JSON at
 * byte 12"), VSG_ERR_LIMIT (memory cap), VSG_ERR_NOMEM.
 */
enum vsg_err vsg_lua_json_decode(lua_State *L, const char *text, size_t len,
                                 struct vsg_error *err);

#endif
