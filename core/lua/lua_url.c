/*
 * lua_url.c - vsg.url: URL helpers for scripts.
 *
 *   redact(text)   -> text with the user info of every "scheme://user:pw@host"
 *                     replaced by "***" (base/url.h's vsg_url_redact, the one
 *                     rule vsgate redacts by); for messages, conditions and logs
 *
 * A non-string argument raises.
 */
#include <lauxlib.h>

#include "base/mem.h"
#include "base/url.h"
#include "lua/host.h"
#include "lua/internal.h"

/* [-0, +1, m] vsg.url.redact(text) */
static int url_redact(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    luaL_Buffer b;

    vsg_lua_meter(L, len / 8); /* Two passes over the text. */
    size_t n = vsg_url_redact(s, NULL, 0);
    char *out = luaL_buffinitsize(L, &b, n + 1);
    vsg_url_redact(s, out, n + 1);
    luaL_pushresultsize(&b, n);
    return 1;
}

/* Where each function may run: everywhere. */
static const struct vsg_lua_reg url_funcs[] = {
    {"redact", url_redact, VSG_LUA_CTX_ANY},
    {NULL, NULL, 0}};

int vsg__lua_open_url(lua_State *L)
{
    lua_createtable(L, 0, 1);
    vsg_lua_setfuncs(L, "vsg.url", url_funcs);
    return 1;
}
