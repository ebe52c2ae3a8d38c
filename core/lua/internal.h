/*
 * internal.h - what the files of core/lua/ share and nobody else uses.
 *
 * Provides: the openers of the vsg.log, vsg.json and vsg.time libraries,
 * the log emitter behind vsg.log and print, the read-only proxy maker,
 * the budget meter for C work, and the metered library functions.
 * Uses: lua/host.h, base/log.h.
 * Owns: nothing.
 */
#ifndef VSG_LUA_INTERNAL_H
#define VSG_LUA_INTERNAL_H

#include <stdint.h>

#include <lua.h>

#include "base/buf.h"
#include "base/log.h"
#include "lua/host.h"

/* [-0, +1, m] Push the plain (not yet read-only) library tables. */
int vsg__lua_open_log(lua_State *L);
int vsg__lua_open_json(lua_State *L);
int vsg__lua_open_time(lua_State *L);
int vsg__lua_open_url(lua_State *L);

/* [-1, +1, -] vsg.isnull(v): true for nil and vsg.null. */
int vsg__lua_isnull(lua_State *L);

/* [-0, +0, m] Creates the registry entries lua_json.c needs (the array
 * and object marker metatables, the box metatable, vsg.null's metatable).
 * Called once per state by the host's setup. */
void vsg__lua_json_setup(lua_State *L);

/*
 * [-0, +0, m] Writes one log line at `level` with the state's logger
 * name, the nearest Lua caller's chunk:line, the message `msg` and, when
 * `fields` is a stack index (not 0), that table's entries as JSON fields
 * (sorted keys; values that JSON cannot hold are written as strings).
 */
void vsg__lua_log(lua_State *L, enum vsg_log_level level, const char *msg,
                  int fields);

/* [-0, +0, -] Appends the table at `idx` as JSON object members for
 * vsg_log_emit_json(): sorted keys, values JSON cannot hold written as
 * strings, keys clashing with the line's own (level, ts, logger, caller,
 * msg) prefixed with '_'. Never raises. */
enum vsg_err vsg__lua_json_encode_log_fields(lua_State *L, int idx,
                                             struct vsg_buf *out);

/* [-0, +0, -] Charges `n` instructions to the current call's budget, for
 * C work done on a script's behalf (log lines, JSON); the next hook call
 * enforces it (vsg_lua_meter() of host.h enforces it at once). */
void vsg__lua_charge(lua_State *L, uint64_t n);

/* [-0, +0, -] vsg_lua_meter() for C code that may not raise (it holds C
 * memory): charges `n` and returns nonzero when the call is over its
 * budget or past its deadline; the caller frees what it holds and then
 * raises with vsg_lua_meter(L, 0), which reports that limit. */
int vsg__lua_over(lua_State *L, uint64_t n);

/* [-0, +0, m] Replaces find, match, gmatch and gsub in the string table
 * at `idx` with the metered matcher of lua_pattern.c. */
void vsg__lua_patterns_install(lua_State *L, int idx);

/* [-0, +0, v] Replaces the functions of the base, string, table, utf8
 * and os tables at these indexes whose work grows with their input by the
 * metered ones of lua_meter.c. */
void vsg__lua_meter_install(lua_State *L, int base, int string, int table,
                            int utf8, int os);

/* [-0, +1, m] Pushes a read-only proxy of the table at `idx`: reads go to
 * the table, writes raise "attempt to modify read-only table '<name>'",
 * pairs() iterates the table, the metatable is hidden. */
void vsg__lua_push_readonly(lua_State *L, int idx, const char *name);

/* [-0, +0, -] When the table at `idx` is a lazily built host table (its
 * metatable marked with vsg_lua_mark_settable, e.g. a filter's event), runs
 * its __pairs so that every field is in it, for readers that see tables raw
 * (vsg.json.encode). Errors are swallowed: the table is then as it was. */
void vsg__lua_complete_lazy(lua_State *L, int idx);

/* Registry keys host.c and require.c share (their addresses). */
extern const char vsg__lua_key_loaded;  /* require's cache: name -> value. */
extern const char vsg__lua_key_modules; /* In-memory modules: name -> text. */
extern const char vsg__lua_key_vsg;     /* The real vsg table. */
extern const char vsg__lua_key_vsgro;   /* The read-only proxy of vsg. */
extern const char vsg__lua_key_loading; /* Marks a module whose body runs. */

/* Bytes of text per instruction charged by load() and require:
 * compiling code takes some 25 ns a byte, as much as a few VM
 * instructions. */
#define LOAD_BYTES 1

/* Longest module name require takes. */
#define MODULE_NAME_MAX 128

/* Nonzero when `name` is a dotted name of [A-Za-z_][A-Za-z0-9_-]* parts. */
int vsg__lua_valid_module_name(const char *name, size_t len);

/* [-1, +1, e] The sandbox's require(name). */
int vsg__lua_require(lua_State *L);

/* [-0, +0, m] Gives the function at `idx` a fresh env (reads fall through
 * to the sandbox's globals, writes stay in it). */
void vsg__lua_set_fresh_env(lua_State *L, int idx);

/* require's file templates of state `s` ("dir/?.lua;..."), or NULL. */
const char *vsg__lua_search_path(const struct vsg_lua *s);

/* How misuse messages name a context: "... is not allowed <phrase>". */
const char *vsg__lua_context_phrase(enum vsg_lua_context ctx);

#endif
