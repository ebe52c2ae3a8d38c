/*
 * script.h - a reloadable script: build, validate, swap, or keep the old.
 *
 * Provides: struct vsg_lua_script, which holds the state of the script
 * version in use, and vsg_lua_script_update(), which compiles a new
 * version into a fresh state, runs its main chunk, finds its entry
 * function, lets the caller check it (a dry run on a sample), and swaps it
 * in only when all of that passed. On any failure the old version stays
 * and the error (with chunk:line) is returned.
 * Uses: lua/host.h, base/.
 * Owns: a script owns its current state and copies of its config strings;
 * vsg_lua_script_free() releases them. Sources given to update are copied
 * into the new state.
 *
 * Not thread-shared: the owner calls update between two units of work
 * (two events, two reconciles), never during a call into the script.
 *
 *   struct vsg_lua_script *sc = vsg_lua_script_new(&cfg, "filter", &err);
 *   struct vsg_lua_source src = {"filter.lua", text, len};
 *   if (vsg_lua_script_update(sc, &src, NULL, 0, dry_run, &sample, &err))
 *       log("filter not changed: %s", err.msg);   // old one still runs
 *   ...
 *   vsg_lua_script_push_entry(sc);                 // [-0, +1]
 *   push the event ...;
 *   vsg_lua_pcall(vsg_lua_script_state(sc), 1, 1, &err);
 */
#ifndef VSG_LUA_SCRIPT_H
#define VSG_LUA_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "lua/host.h"

struct vsg_lua_script;

/* One Lua text: the main script or a module it may require. */
struct vsg_lua_source {
    const char *name; /* Main: chunk name ("filter.lua"); module: module
                         name ("helpers", chunk name "helpers.lua"). */
    const char *text; /* The Lua text (not NUL-terminated necessarily). */
    size_t len;       /* Its length in bytes. */
};

/*
 * The caller's check of a candidate version, run after its main chunk and
 * entry lookup succeeded and before the swap, with the state in the kind's
 * call context. Use the candidate as the real script (push_entry, then
 * vsg_lua_pcall() on vsg_lua_script_state(candidate)); the limits apply.
 * Return VSG_OK to accept; anything else (with err set) rejects it.
 */
typedef enum vsg_err (*vsg_lua_check_fn)(
    const struct vsg_lua_script *candidate, void *ud, struct vsg_error *err);

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/*
 * A script with no version yet. `cfg` is copied (its strings too; the
 * libs table is borrowed). `entry` is the function each call runs
 * ("filter"): a global the chunk defines, or a field of the table the
 * chunk returns; NULL when the caller only uses the module table. NULL
 * and VSG_ERR_NOMEM/VSG_ERR_INVAL in err on failure.
 */
struct vsg_lua_script *vsg_lua_script_new(const struct vsg_lua_config *cfg,
                                          const char *entry,
                                          struct vsg_error *err);

/* Frees the script and its state. NULL is a no-op. */
void vsg_lua_script_free(struct vsg_lua_script *sc);

/* ====================================================================
 * Updating
 * ==================================================================== */

/*
 * Builds the version made of `main` and `nmodules` `modules`; see the top
 * of this file. Identical sources to the version in use (same hash) are a
 * no-op returning VSG_OK. On success the new version is in use, the
 * version counter went up by one and the old state is closed. On failure
 * nothing changed: VSG_ERR_LUA (syntax or runtime error "filter.lua:3:
 * ...", missing entry function), VSG_ERR_LIMIT, VSG_ERR_INVAL (bad module
 * name), VSG_ERR_NOMEM, or what `check` returned.
 */
enum vsg_err vsg_lua_script_update(struct vsg_lua_script *sc,
                                   const struct vsg_lua_source *main,
                                   const struct vsg_lua_source *modules,
                                   size_t nmodules, vsg_lua_check_fn check,
                                   void *ud, struct vsg_error *err);

/* ====================================================================
 * Using the version in use
 * ==================================================================== */

/* The state of the version in use, or NULL before the first success.
 * Borrowed: valid until the next successful update or free. */
struct vsg_lua *vsg_lua_script_state(const struct vsg_lua_script *sc);

/* [-0, +1, -] Pushes the entry function on the state's stack.
 * VSG_ERR_INVALIDSTATE when there is no version or no entry name,
 * VSG_ERR_NOMEM when the stack cannot grow. */
enum vsg_err vsg_lua_script_push_entry(const struct vsg_lua_script *sc);

/* [-0, +1, -] Pushes the module: the table the main chunk returned, or
 * its global env when it returned none. Errors as push_entry. */
enum vsg_err vsg_lua_script_push_module(const struct vsg_lua_script *sc);

/* How many versions were swapped in so far (0: none yet). */
uint64_t vsg_lua_script_version(const struct vsg_lua_script *sc);

/* The 64-bit FNV-1a hash of the sources in use as 16 hex digits, or ""
 * before the first success (borrowed). An identity, not a MAC. */
const char *vsg_lua_script_hash(const struct vsg_lua_script *sc);

#endif
