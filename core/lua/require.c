/*
 * lua/require.c - `require` inside a sandboxed state: module names, the
 * in-memory modules of a script version, then the search path's files;
 * each module runs in a fresh env of its own, once (see host.h).
 */
#include "lua/host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "lua/internal.h"

/* ====================================================================
 * require
 * ==================================================================== */

/* Nonzero when `name` is a dotted name of [A-Za-z_][A-Za-z0-9_-]* parts. */
int vsg__lua_valid_module_name(const char *name, size_t len)
{
    int start = 1;

    if (len == 0 || len > MODULE_NAME_MAX || strlen(name) != len) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    c == '_';
        int digit = (c >= '0' && c <= '9') || c == '-';

        if (c == '.') {
            if (start) return 0;
            start = 1;
        } else if (alpha || (!start && digit)) {
            start = 0;
        } else {
            return 0;
        }
    }
    return !start;
}

/* Reads at most VSG_LUA_MODULE_MAX bytes of `path` into `b`: 0 on success,
 * ENOENT when absent, EFBIG when too large, another errno otherwise. */
static int read_file(const char *path, struct vsg_buf *b)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char chunk[8192];
    size_t n;
    int rc = 0;

    if (f == NULL) return errno != 0 ? errno : EIO;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        rc = ENOENT;
        goto done;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        enum vsg_err e = vsg_buf_append(b, chunk, n);

        if (e != VSG_OK) {
            rc = e == VSG_ERR_TOOBIG ? EFBIG : ENOMEM;
            goto done;
        }
    }
    if (ferror(f)) rc = EIO;
done:
    fclose(f);
    return rc;
}

/*
 * [-0, +(1|0), v] Looks `name` up in the search path. On success pushes the
 * loaded chunk (no env set yet) and returns 1. Returns 0 with nothing
 * pushed when no file exists, after appending the tried paths to `tried`.
 * Raises for an unreadable file or a syntax error.
 */
static int load_from_path(lua_State *L, struct vsg_lua *s, const char *name,
                          char *tried, size_t triedsz)
{
    const char *t = vsg__lua_search_path(s);

    while (t != NULL && *t != '\0') {
        const char *end = strchr(t, ';'), *q;
        size_t tlen = end != NULL ? (size_t)(end - t) : strlen(t);
        char path[4096], display[LUA_IDSIZE + 2];
        size_t used = strlen(tried), compiled;
        struct vsg_buf text;
        int rc, status, n;

        q = memchr(t, '?', tlen);
        if (q == NULL || tlen >= 2048) goto next;
        n = snprintf(path, sizeof path, "%.*s", (int)(q - t), t);
        for (const char *c = name; *c != '\0' && n < (int)sizeof path - 1;
             c++)
            path[n++] = *c == '.' ? '/' : *c;
        (void)snprintf(path + n, sizeof path - (size_t)n, "%.*s",
                       (int)(tlen - (size_t)(q - t) - 1), q + 1);
        /* Messages show the path from the folder holding the template's
         * '?' part on: "plugins/by_type.lua". */
        {
            const char *d = q, *shown = path;
            int slashes = 0;
            size_t sl;

            while (d > t && slashes < 2) {
                d--;
                if (*d == '/') slashes++;
            }
            if (slashes == 2) shown = path + (d - t) + 1;
            sl = strlen(shown);
            if (sl > sizeof display - 2) sl = sizeof display - 2;
            display[0] = '=';
            memcpy(display + 1, shown, sl);
            display[sl + 1] = '\0';
        }
        vsg_buf_init(&text, VSG_LUA_MODULE_MAX);
        rc = read_file(path, &text);
        if (rc == ENOENT || rc == ENOTDIR) {
            vsg_buf_cleanup(&text);
            (void)snprintf(tried + used, triedsz - used, "\n\tno file '%s'",
                           path);
            goto next;
        }
        if (rc != 0) {
            vsg_buf_cleanup(&text);
            return luaL_error(L, "cannot read module '%s' from %s: %s", name,
                              path,
                              rc == EFBIG ? "file too large" : strerror(rc));
        }
        /* lua_load never raises: the C buffer is freed on every path. */
        status = luaL_loadbufferx(L, text.data != NULL ? text.data : "",
                                  text.len, display, "t");
        compiled = text.len;
        vsg_buf_cleanup(&text);
        vsg_lua_meter(L, compiled / LOAD_BYTES); /* As load() charges. */
        if (status != LUA_OK) return lua_error(L);
        return 1;
    next:
        t = end != NULL ? end + 1 : NULL;
    }
    return 0;
}

/* [-1, +1, e] require(name), sandboxed; see host.h. */
int vsg__lua_require(lua_State *L)
{
    struct vsg_lua *s = vsg_lua_from(L);
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    char tried[1024];
    int status;

    lua_settop(L, 1);
    if (!vsg__lua_valid_module_name(name, len))
        return luaL_error(L, "invalid module name '%s' (use dotted names "
                             "such as 'lib.conditions')", name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_loaded); /* 2: loaded */
    lua_pushvalue(L, 1);
    if (lua_rawget(L, 2) != LUA_TNIL) {             /* 3 */
        if (lua_touserdata(L, 3) == (void *)&vsg__lua_key_loading)
            return luaL_error(L, "loop while loading module '%s'", name);
        return 1;
    }
    lua_pop(L, 1);
    if (strcmp(name, "vsg") == 0) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_vsgro);
        return 1;
    }
    if (strncmp(name, "vsg.", 4) == 0) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_vsg);
        if (lua_getfield(L, -1, name + 4) != LUA_TNIL) return 1;
        return luaL_error(L, "module '%s' not found: no library vsg.%s",
                          name, name + 4);
    }

    /* 3: the chunk, from memory first, then from the search path. */
    lua_rawgetp(L, LUA_REGISTRYINDEX, &vsg__lua_key_modules);
    lua_pushvalue(L, 1);
    if (lua_rawget(L, -2) == LUA_TSTRING) {
        size_t n;
        const char *src = lua_tolstring(L, -1, &n);
        const char *chunkname = lua_pushfstring(L, "=%s.lua", name);

        vsg_lua_meter(L, n / LOAD_BYTES); /* As load() charges. */
        status = luaL_loadbufferx(L, src, n, chunkname, "t");
        if (status != LUA_OK) return lua_error(L);
        lua_replace(L, 3);
        lua_settop(L, 3);
    } else {
        lua_settop(L, 2);
        (void)snprintf(tried, sizeof tried, "\n\tno in-memory module '%s'",
                       name);
        if (!load_from_path(L, s, name, tried, sizeof tried))
            return luaL_error(L, "module '%s' not found:%s", name, tried);
    }
    vsg__lua_set_fresh_env(L, 3);

    /* Mark it loading, run it, cache what it returns (true for nothing);
     * on error forget it so that a later require tries again. */
    lua_pushvalue(L, 1);
    lua_pushlightuserdata(L, (void *)&vsg__lua_key_loading);
    lua_rawset(L, 2);
    lua_pushvalue(L, 1);
    status = lua_pcall(L, 1, 1, 0);                 /* 3: result or error */
    if (status != LUA_OK) {
        lua_pushvalue(L, 1);
        lua_pushnil(L);
        lua_rawset(L, 2);
        return lua_error(L);
    }
    if (lua_isnil(L, 3)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 3);
    lua_rawset(L, 2);
    return 1;
}
