/*
 * client/lua_vsphere.c - the Lua 5.4 module `vsgate.vsphere` for bound
 * apps: libvsgate for a plain `lua5.4` interpreter (bound apps run outside
 * vsgate's sandbox, so this is an ordinary C module, vsgate/vsphere.so,
 * with libvsgate linked in statically; it exports luaopen_vsgate_vsphere
 * only).
 *
 *   local vs = require "vsgate.vsphere"
 *   local c, err = vs.client_from_env()     -- SOAP, logged in
 *   c:vms()          --> { {id=, name=, power_state=}, ... }
 *   c:call(method, body) --> the <MethodResponse> XML string
 *   c:url(), c:api_version(), c:full_name(), c:service_ref(name) --> value, type
 *   c:keepalive(), c:close()                -- also closed by GC / <close>
 *   local r, err = vs.rest_session_from_env()
 *   r:get(path) --> body;  r:request(method, path [, json]) --> status, body
 *   r:url(), r:close()
 *
 * Both constructors take an optional table {secret_path=, timeout_ms=,
 * keepalive_ms=, manual_keepalive=}. Failures return nil, message, code
 * name ("ELOGIN", "ECONFIG"...); bad arguments raise errors.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "vsgate/vsgate.h"

#define CLIENT_MT "vsgate.vsphere.client"
#define REST_MT "vsgate.vsphere.rest"

/* Exported: the only symbol of the module. */
__attribute__((visibility("default"))) int luaopen_vsgate_vsphere(lua_State *L);

struct lclient {
    vsgate_client *c; /* NULL once closed. */
};

struct lrest {
    vsgate_rest *r; /* NULL once closed. */
};

/* Pushes nil, message, code name; returns 3. */
static int push_err(lua_State *L, const vsgate_error *e)
{
    lua_pushnil(L);
    lua_pushstring(L, e->message);
    lua_pushstring(L, vsgate_status_name(e->code));
    return 3;
}

/* Reads the optional options table at `idx`. Strings stay on the stack
 * (in the table), so they live as long as the call. */
static void get_opts(lua_State *L, int idx, vsgate_options *o)
{
    memset(o, 0, sizeof *o);
    if (lua_isnoneornil(L, idx)) return;
    luaL_checktype(L, idx, LUA_TTABLE);
    if (lua_getfield(L, idx, "secret_path") != LUA_TNIL) o->secret_path = luaL_checkstring(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "timeout_ms") != LUA_TNIL) o->timeout_ms = (long)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    if (lua_getfield(L, idx, "keepalive_ms") != LUA_TNIL)
        o->keepalive_ms = (long)luaL_checkinteger(L, -1);
    lua_pop(L, 1);
    lua_getfield(L, idx, "manual_keepalive");
    o->manual_keepalive = lua_toboolean(L, -1);
    lua_pop(L, 1);
}

/* ====================================================================
 * SOAP client
 * ==================================================================== */

static struct lclient *check_client(lua_State *L)
{
    struct lclient *u = luaL_checkudata(L, 1, CLIENT_MT);
    if (!u->c) luaL_error(L, "vsgate.vsphere: the client is closed");
    return u;
}

static int l_client_from_env(lua_State *L)
{
    vsgate_options o;
    vsgate_error e;
    get_opts(L, 1, &o);
    struct lclient *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->c = NULL;
    luaL_setmetatable(L, CLIENT_MT);
    if (!(u->c = vsgate_client_from_env(&o, &e))) return push_err(L, &e);
    return 1;
}

static int l_client_call(lua_State *L)
{
    struct lclient *u = check_client(L);
    const char *method = luaL_checkstring(L, 2);
    const char *body = luaL_optstring(L, 3, "");
    vsgate_error e;
    char *xml = NULL;
    if (vsgate_soap_call(u->c, method, body, &xml, &e) != VSGATE_OK) return push_err(L, &e);
    /* A memory error in pushstring would leak `xml` (acceptable). */
    lua_pushstring(L, xml);
    vsgate_free(xml);
    return 1;
}

/* The VMs are collected in C first: no Lua error may escape while
 * libvsgate holds its lock. */
struct vm_acc {
    char **s; /* id, name, state triples. */
    size_t n, cap;
    int oom;
};

static char *dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int on_vm(void *ud, const char *id, const char *name, const char *state)
{
    struct vm_acc *a = ud;
    if (a->n + 3 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 48;
        char **ns = realloc(a->s, cap * sizeof *ns);
        if (!ns) { a->oom = 1; return 1; }
        a->s = ns;
        a->cap = cap;
    }
    char *x = dup(id), *y = dup(name), *z = dup(state);
    if (!x || !y || !z) {
        free(x); free(y); free(z);
        a->oom = 1;
        return 1;
    }
    a->s[a->n++] = x;
    a->s[a->n++] = y;
    a->s[a->n++] = z;
    return 0;
}

static void vm_acc_free(struct vm_acc *a)
{
    for (size_t i = 0; i < a->n; i++) free(a->s[i]);
    free(a->s);
    memset(a, 0, sizeof *a);
}

static int l_client_vms(lua_State *L)
{
    struct lclient *u = check_client(L);
    struct vm_acc a = {0};
    vsgate_error e;
    if (vsgate_list_vms(u->c, on_vm, &a, &e) != VSGATE_OK) {
        vm_acc_free(&a);
        return push_err(L, &e);
    }
    if (a.oom) {
        vm_acc_free(&a);
        return luaL_error(L, "vsgate.vsphere: out of memory");
    }
    /* libvsgate's lock is released by now. A memory error raised while
     * building the table would leak these copies (small; acceptable). */
    lua_createtable(L, (int)(a.n / 3), 0);
    for (size_t i = 0; i < a.n; i += 3) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, a.s[i]);
        lua_setfield(L, -2, "id");
        lua_pushstring(L, a.s[i + 1]);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, a.s[i + 2]);
        lua_setfield(L, -2, "power_state");
        lua_rawseti(L, -2, (lua_Integer)(i / 3 + 1));
    }
    vm_acc_free(&a);
    return 1;
}

static int l_client_url(lua_State *L)
{
    lua_pushstring(L, vsgate_client_url(check_client(L)->c));
    return 1;
}

static int l_client_api_version(lua_State *L)
{
    lua_pushstring(L, vsgate_client_api_version(check_client(L)->c));
    return 1;
}

static int l_client_full_name(lua_State *L)
{
    lua_pushstring(L, vsgate_client_full_name(check_client(L)->c));
    return 1;
}

static int l_client_service_ref(lua_State *L)
{
    struct lclient *u = check_client(L);
    const char *type, *value;
    if (!vsgate_client_service_ref(u->c, luaL_checkstring(L, 2), &type, &value)) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, value);
    lua_pushstring(L, type);
    return 2;
}

static int l_client_keepalive(lua_State *L)
{
    struct lclient *u = check_client(L);
    vsgate_error e;
    if (vsgate_client_keepalive(u->c, &e) != VSGATE_OK) return push_err(L, &e);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_client_close(lua_State *L)
{
    struct lclient *u = luaL_checkudata(L, 1, CLIENT_MT);
    vsgate_client_close(u->c);
    u->c = NULL;
    return 0;
}

static int l_client_tostring(lua_State *L)
{
    struct lclient *u = luaL_checkudata(L, 1, CLIENT_MT);
    if (u->c) lua_pushfstring(L, "vsgate.vsphere.client (%s)", vsgate_client_url(u->c));
    else lua_pushliteral(L, "vsgate.vsphere.client (closed)");
    return 1;
}

static const luaL_Reg client_methods[] = {
    {"call", l_client_call},
    {"vms", l_client_vms},
    {"url", l_client_url},
    {"api_version", l_client_api_version},
    {"full_name", l_client_full_name},
    {"service_ref", l_client_service_ref},
    {"keepalive", l_client_keepalive},
    {"close", l_client_close},
    {NULL, NULL},
};

/* ====================================================================
 * REST session
 * ==================================================================== */

static struct lrest *check_rest(lua_State *L)
{
    struct lrest *u = luaL_checkudata(L, 1, REST_MT);
    if (!u->r) luaL_error(L, "vsgate.vsphere: the REST session is closed");
    return u;
}

static int l_rest_from_env(lua_State *L)
{
    vsgate_options o;
    vsgate_error e;
    get_opts(L, 1, &o);
    struct lrest *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->r = NULL;
    luaL_setmetatable(L, REST_MT);
    if (!(u->r = vsgate_rest_session_from_env(&o, &e))) return push_err(L, &e);
    return 1;
}

static int l_rest_get(lua_State *L)
{
    struct lrest *u = check_rest(L);
    const char *path = luaL_checkstring(L, 2);
    vsgate_error e;
    char *body = NULL;
    if (vsgate_rest_get(u->r, path, &body, &e) != VSGATE_OK) return push_err(L, &e);
    lua_pushstring(L, body);
    vsgate_free(body);
    return 1;
}

static int l_rest_request(lua_State *L)
{
    struct lrest *u = check_rest(L);
    const char *method = luaL_checkstring(L, 2);
    const char *path = luaL_checkstring(L, 3);
    const char *json = luaL_optstring(L, 4, NULL);
    vsgate_error e;
    long status = 0;
    char *body = NULL;
    if (vsgate_rest_request(u->r, method, path, json, &status, &body, &e) != VSGATE_OK)
        return push_err(L, &e);
    lua_pushinteger(L, status);
    lua_pushstring(L, body);
    vsgate_free(body);
    return 2;
}

static int l_rest_url(lua_State *L)
{
    lua_pushstring(L, vsgate_rest_url(check_rest(L)->r));
    return 1;
}

static int l_rest_close(lua_State *L)
{
    struct lrest *u = luaL_checkudata(L, 1, REST_MT);
    vsgate_rest_close(u->r);
    u->r = NULL;
    return 0;
}

static int l_rest_tostring(lua_State *L)
{
    struct lrest *u = luaL_checkudata(L, 1, REST_MT);
    if (u->r) lua_pushfstring(L, "vsgate.vsphere.rest (%s)", vsgate_rest_url(u->r));
    else lua_pushliteral(L, "vsgate.vsphere.rest (closed)");
    return 1;
}

static const luaL_Reg rest_methods[] = {
    {"get", l_rest_get},
    {"request", l_rest_request},
    {"url", l_rest_url},
    {"close", l_rest_close},
    {NULL, NULL},
};

/* ====================================================================
 * Module
 * ==================================================================== */

static void new_class(lua_State *L, const char *name, const luaL_Reg *methods,
                      lua_CFunction close, lua_CFunction tostring)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
}

static const luaL_Reg module_funcs[] = {
    {"client_from_env", l_client_from_env},
    {"rest_session_from_env", l_rest_from_env},
    {NULL, NULL},
};

int luaopen_vsgate_vsphere(lua_State *L)
{
    new_class(L, CLIENT_MT, client_methods, l_client_close, l_client_tostring);
    new_class(L, REST_MT, rest_methods, l_rest_close, l_rest_tostring);
    luaL_newlib(L, module_funcs);
    lua_pushstring(L, vsgate_version());
    lua_setfield(L, -2, "version");
    return 1;
}
