/*
 * lua_testutil.h - helpers for the C tests of core/lua: make a state, run
 * a snippet through the host, see its result or error as text.
 *
 * Provides: lt_state(), lt_eval(), lt_run(), lt_logs_begin()/lt_logs_end(),
 * lt_same_outcome() (a sandbox result against real Lua's).
 * Uses: check.h, lua/host.h, base/log.h. Owns: the returned states (free
 * them with vsg_lua_close()).
 */
#ifndef VSG_LUA_TESTUTIL_H
#define VSG_LUA_TESTUTIL_H

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "base/log.h"
#include "check.h"
#include "lua/host.h"

/* A state of `kind` with the given memory cap and budget (0: defaults). */
static inline struct vsg_lua *lt_state(enum vsg_lua_kind kind, size_t memory,
                                uint64_t instructions)
{
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua *s;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = kind;
    cfg.name = "test.lua.state";
    cfg.limits.memory = memory;
    cfg.limits.instructions = instructions;
    s = vsg_lua_newstate(&cfg, &err);
    if (s == NULL) CHECK_FAIL_("vsg_lua_newstate: %s", err.msg);
    return s;
}

/* Loads `src` as "test.lua" and calls it with one result left on the
 * stack on success. */
static inline enum vsg_err lt_run(struct vsg_lua *s, const char *src,
                           struct vsg_error *err)
{
    enum vsg_err rc = vsg_lua_load(s, "test.lua", src, strlen(src), err);

    if (rc != VSG_OK) return rc;
    return vsg_lua_pcall(s, 0, 1, err);
}

/*
 * Runs `src` and returns its first result as text (strings as they are,
 * integers in decimal, floats with %.17g, booleans, "nil", other types by
 * name), or "error <ENAME>: <message>". Leaves the stack empty. The text
 * lives in a static buffer until the next call.
 */
static inline const char *lt_eval(struct vsg_lua *s, const char *src)
{
    static char out[8192];
    struct vsg_error err;
    lua_State *L = vsg_lua_L(s);
    enum vsg_err rc;

    if (lua_gettop(L) != 0) CHECK_FAIL_("stack not empty: %d", lua_gettop(L));
    rc = lt_run(s, src, &err);
    if (rc != VSG_OK) {
        (void)snprintf(out, sizeof out, "error %s: %s", vsg_errname(rc),
                       err.msg);
        if (lua_gettop(L) != 0) CHECK_FAIL_("stack left after error");
        return out;
    }
    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        (void)snprintf(out, sizeof out, "%s", lua_tostring(L, -1));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            (void)snprintf(out, sizeof out, "%lld",
                           (long long)lua_tointeger(L, -1));
        else
            (void)snprintf(out, sizeof out, "%.17g", lua_tonumber(L, -1));
        break;
    case LUA_TBOOLEAN:
        (void)snprintf(out, sizeof out, "%s",
                       lua_toboolean(L, -1) ? "true" : "false");
        break;
    default:
        (void)snprintf(out, sizeof out, "%s", luaL_typename(L, -1));
        break;
    }
    lua_pop(L, 1);
    return out;
}

/* Nonzero when `hay` contains `needle`. */
static inline int lt_has(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

/* CHECK that `got` contains `want`, printing both. */
#define CHECK_HAS(got, want)                                                 \
    do {                                                                     \
        const char *g2_ = (got), *w2_ = (want);                              \
        if (!lt_has(g2_, w2_))                                               \
            CHECK_FAIL_("%s == \"%s\", want it to contain \"%s\"", #got,     \
                        g2_ ? g2_ : "(null)", w2_);                          \
    } while (0)

static FILE *lt_sink; /* The tmpfile logs go to between begin and end. */

/* Sends the log at `min` and above into a fresh tmpfile. */
static inline void lt_logs_begin(enum vsg_log_level min)
{
    lt_sink = tmpfile();
    if (lt_sink == NULL) CHECK_FAIL_("tmpfile() failed");
    vsg_log_setup(min, lt_sink);
}

/* Everything logged since lt_logs_begin() (static buffer); restores the
 * default sink. */
static inline const char *lt_logs_end(void)
{
    static char text[1 << 20];
    size_t n;

    vsg_log_setup(VSG_LOG_LEVEL_INFO, NULL);
    rewind(lt_sink);
    n = fread(text, 1, sizeof text - 1, lt_sink);
    text[n] = '\0';
    fclose(lt_sink);
    lt_sink = NULL;
    return text;
}

/* Nonzero when the sandbox's `got` (lt_eval) is real Lua's `want`: the same text, or
 * the same error with the place "test.lua:1: " in front where Lua's has
 * none (the host may add where a C function raised). */
static inline int lt_same_outcome(const char *want, const char *got)
{
    static const char err[] = "error ELUA: ", at[] = "test.lua:1: ";
    size_t le = sizeof err - 1, la = sizeof at - 1;

    if (strcmp(want, got) == 0) return 1;
    return strncmp(want, err, le) == 0 && strncmp(got, err, le) == 0 &&
           strncmp(got + le, at, la) == 0 &&
           strcmp(want + le, got + le + la) == 0;
}

/* Runs each of the `n` snippets in real Lua (a fresh lua_State with the
 * standard libraries) and in sandbox `s` (lt_eval), and fails the test for
 * each whose outcome differs (lt_same_outcome). A table reads "table" on
 * both sides, as lt_eval names it. */
static inline void lt_same_as_lua(struct vsg_lua *s, const char *const *snippets, size_t n)
{
    lua_State *R = luaL_newstate();

    luaL_openlibs(R);
    for (size_t i = 0; i < n; i++) {
        char want[1024];
        const char *got;

        if (luaL_loadbuffer(R, snippets[i], strlen(snippets[i]), "=test.lua") != LUA_OK)
            CHECK_FAIL_("reference load: %s", lua_tostring(R, -1));
        if (lua_pcall(R, 0, 1, 0) != LUA_OK)
            (void)snprintf(want, sizeof want, "error ELUA: %s", lua_tostring(R, -1));
        else if (lua_type(R, -1) == LUA_TTABLE)
            (void)snprintf(want, sizeof want, "table");
        else
            (void)snprintf(want, sizeof want, "%s", luaL_tolstring(R, -1, NULL));
        lua_settop(R, 0);
        got = lt_eval(s, snippets[i]);
        if (!lt_same_outcome(want, got))
            CHECK_FAIL_("%s:\n    lua:  %s\n    ours: %s", snippets[i], want, got);
    }
    lua_close(R);
}

#endif
