/*
 * test_lua_script.c - unit tests for lua/script.h: a new version is swapped
 * in only when it compiles, runs, has its entry function and passes the
 * caller's dry run; otherwise the old one keeps running.
 */
#include "lua_testutil.h"

#include <dirent.h>
#include <stdlib.h>

#include "base/buf.h"
#include "lua/json.h"
#include "lua/script.h"

/* A filter script unit with the defaults. */
static struct vsg_lua_script *new_filter(void)
{
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua_script *sc;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = VSG_LUA_KIND_FILTER;
    cfg.name = "vsgate.filter.default/src";
    sc = vsg_lua_script_new(&cfg, "filter", &err);
    if (sc == NULL) CHECK_FAIL_("vsg_lua_script_new: %s", err.msg);
    return sc;
}

/* Updates `sc` to the main text `text` (as filter.lua), with the dry run
 * below when `dry` is set. */
static enum vsg_err update(struct vsg_lua_script *sc, const char *text,
                           vsg_lua_check_fn dry, struct vsg_error *err)
{
    struct vsg_lua_source src = {"filter.lua", text, strlen(text)};

    return vsg_lua_script_update(sc, &src, NULL, 0, dry, NULL, err);
}

/* Calls filter(arg) on the version `sc` holds (or the candidate) and
 * returns the result as text, or "error ...". */
static const char *call_filter(const struct vsg_lua_script *sc,
                               const char *arg)
{
    static char out[1024];
    struct vsg_lua *s = vsg_lua_script_state(sc);
    lua_State *L = vsg_lua_L(s);
    struct vsg_error err;
    enum vsg_err rc;

    CHECK_INT(vsg_lua_script_push_entry(sc), VSG_OK);
    lua_pushstring(L, arg);
    rc = vsg_lua_pcall(s, 1, 1, &err);
    if (rc != VSG_OK) {
        (void)snprintf(out, sizeof out, "error %s: %s", vsg_errname(rc),
                       err.msg);
        return out;
    }
    (void)snprintf(out, sizeof out, "%s", luaL_tolstring(L, -1, NULL));
    lua_pop(L, 2);
    CHECK_INT(lua_gettop(L), 0);
    return out;
}

/* The dry run: filter("sample") must succeed, in the filter context. */
static enum vsg_err dry_run(const struct vsg_lua_script *cand, void *ud,
                            struct vsg_error *err)
{
    struct vsg_lua *s = vsg_lua_script_state(cand);
    lua_State *L = vsg_lua_L(s);
    enum vsg_err rc;

    (void)ud;
    if (vsg_lua_context(s) != VSG_LUA_CTX_FILTER)
        return vsg_error_set(err, VSG_ERR_INTERNAL, "wrong context");
    rc = vsg_lua_script_push_entry(cand);
    if (rc != VSG_OK) return vsg_error_set(err, rc, "no entry");
    lua_pushliteral(L, "sample");
    rc = vsg_lua_pcall(s, 1, 1, err);
    if (rc != VSG_OK) return rc;
    lua_pop(L, 1);
    return VSG_OK;
}

/* A check that always refuses. */
static enum vsg_err refuse(const struct vsg_lua_script *cand, void *ud,
                           struct vsg_error *err)
{
    (void)cand;
    (void)ud;
    return vsg_error_set(err, VSG_ERR_INVAL, "refused by policy");
}

static const char v1[] = "function filter(ev) return 'v1:' .. ev end\n";

static void test_first_version_and_swap(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;
    char hash1[17];

    CHECK(vsg_lua_script_state(sc) == NULL);
    CHECK_INT(vsg_lua_script_push_entry(sc), VSG_ERR_INVALIDSTATE);
    CHECK_STR(vsg_lua_script_hash(sc), "");
    CHECK_INT(update(sc, v1, dry_run, &err), VSG_OK);
    CHECK_INT(vsg_lua_script_version(sc), 1);
    CHECK_INT(strlen(vsg_lua_script_hash(sc)), 16);
    (void)snprintf(hash1, sizeof hash1, "%s", vsg_lua_script_hash(sc));
    CHECK_STR(call_filter(sc, "a"), "v1:a");
    CHECK_INT(vsg_lua_context(vsg_lua_script_state(sc)), VSG_LUA_CTX_FILTER);

    /* The same sources again: nothing to do. */
    CHECK_INT(update(sc, v1, dry_run, &err), VSG_OK);
    CHECK_INT(vsg_lua_script_version(sc), 1);

    /* A good new version is swapped in. */
    CHECK_INT(update(sc, "return { filter = function(ev) return 'v2:' .. ev "
                         "end }",
                     dry_run, &err),
              VSG_OK);
    CHECK_INT(vsg_lua_script_version(sc), 2);
    CHECK(strcmp(vsg_lua_script_hash(sc), hash1) != 0);
    CHECK_STR(call_filter(sc, "b"), "v2:b");
    vsg_lua_script_free(sc);
}

static void test_keeps_old_on_compile_error(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;

    CHECK_INT(update(sc, v1, dry_run, &err), VSG_OK);
    CHECK_INT(update(sc, "function filter(ev)\n  return ev +\nend\n",
                     dry_run, &err),
              VSG_ERR_LUA);
    CHECK_STR(err.msg, "filter.lua:3: unexpected symbol near 'end'");
    CHECK_INT(vsg_lua_script_version(sc), 1);
    CHECK_STR(call_filter(sc, "c"), "v1:c");
    vsg_lua_script_free(sc);
}

static void test_keeps_old_on_missing_entry(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;

    CHECK_INT(update(sc, v1, dry_run, &err), VSG_OK);
    CHECK_INT(update(sc, "function filtr(ev) return ev end", dry_run, &err),
              VSG_ERR_LUA);
    CHECK_STR(err.msg, "filter.lua: no function 'filter' (define a global "
                       "function filter or return a table with one)");
    CHECK_INT(update(sc, "filter = 5", dry_run, &err), VSG_ERR_LUA);
    CHECK_INT(update(sc, "return { other = print }", dry_run, &err),
              VSG_ERR_LUA);
    CHECK_INT(vsg_lua_script_version(sc), 1);
    CHECK_STR(call_filter(sc, "d"), "v1:d");
    vsg_lua_script_free(sc);
}

static void test_keeps_old_on_failing_main_or_dry_run(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;

    CHECK_INT(update(sc, v1, dry_run, &err), VSG_OK);
    /* The main chunk raises. */
    CHECK_INT(update(sc, "local cfg = nil\nlocal x = cfg.key\n"
                         "function filter(ev) return ev end",
                     dry_run, &err),
              VSG_ERR_LUA);
    CHECK_STR(err.msg, "filter.lua:2: attempt to index a nil value (local "
                       "'cfg')");
    /* The main chunk never ends. */
    CHECK_INT(update(sc, "while true do end", dry_run, &err), VSG_ERR_LIMIT);
    CHECK_HAS(err.msg, "filter.lua:1: instruction budget exceeded");
    /* The dry run raises. */
    CHECK_INT(update(sc, "function filter(ev)\n  return ev.field.x\nend",
                     dry_run, &err),
              VSG_ERR_LUA);
    CHECK_STR(err.msg, "filter.lua:2: attempt to index a nil value (field "
                       "'field')");
    /* The dry run loops forever or eats memory. */
    CHECK_INT(update(sc, "function filter(ev) while true do end end",
                     dry_run, &err),
              VSG_ERR_LIMIT);
    CHECK_INT(update(sc, "function filter(ev) local t = {} while true do "
                         "t[#t + 1] = ev .. #t end end",
                     dry_run, &err),
              VSG_ERR_LIMIT);
    /* The caller's check refuses. */
    CHECK_INT(update(sc, "function filter(ev) return ev end", refuse, &err),
              VSG_ERR_INVAL);
    CHECK_STR(err.msg, "refused by policy");
    /* Through all of that, version 1 kept running. */
    CHECK_INT(vsg_lua_script_version(sc), 1);
    CHECK_STR(call_filter(sc, "e"), "v1:e");
    vsg_lua_script_free(sc);
}

static void test_modules_from_configmap(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;
    static const char main_text[] =
        "local h = require 'helpers'\n"
        "function filter(ev) return h.tag(ev) end\n";
    struct vsg_lua_source main = {"filter.lua", main_text,
                                  sizeof main_text - 1};
    struct vsg_lua_source mods[] = {
        {"helpers", "return { tag = function(s) return '[' .. s .. ']' end "
                    "}", 0}};
    struct vsg_lua_source bad[] = {{"../helpers", "return {}", 9}};

    mods[0].len = strlen(mods[0].text);
    CHECK_INT(vsg_lua_script_update(sc, &main, mods, 1, dry_run, NULL, &err),
              VSG_OK);
    CHECK_STR(call_filter(sc, "f"), "[f]");
    /* A module change alone is a new version. */
    mods[0].text = "return { tag = function(s) return '<' .. s .. '>' end }";
    mods[0].len = strlen(mods[0].text);
    CHECK_INT(vsg_lua_script_update(sc, &main, mods, 1, dry_run, NULL, &err),
              VSG_OK);
    CHECK_INT(vsg_lua_script_version(sc), 2);
    CHECK_STR(call_filter(sc, "g"), "<g>");
    /* A broken module keeps the old version. */
    mods[0].text = "return {";
    mods[0].len = strlen(mods[0].text);
    CHECK_INT(vsg_lua_script_update(sc, &main, mods, 1, dry_run, NULL, &err),
              VSG_ERR_LUA);
    CHECK_STR(err.msg, "helpers.lua:1: unexpected symbol near <eof>");
    CHECK_INT(vsg_lua_script_update(sc, &main, bad, 1, dry_run, NULL, &err),
              VSG_ERR_INVAL);
    CHECK_STR(call_filter(sc, "h"), "<h>");
    vsg_lua_script_free(sc);
}

static void test_module_without_entry(void)
{
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua_script *sc;
    struct vsg_lua_source src = {"rec.lua",
                                 "return { kind = 'VSphereSource' }", 0};
    lua_State *L;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = VSG_LUA_KIND_RECONCILER;
    sc = vsg_lua_script_new(&cfg, NULL, &err);
    CHECK(sc != NULL);
    src.len = strlen(src.text);
    CHECK_INT(vsg_lua_script_update(sc, &src, NULL, 0, NULL, NULL, &err),
              VSG_OK);
    CHECK_INT(vsg_lua_script_push_entry(sc), VSG_ERR_INVALIDSTATE);
    CHECK_INT(vsg_lua_script_push_module(sc), VSG_OK);
    L = vsg_lua_L(vsg_lua_script_state(sc));
    lua_getfield(L, -1, "kind");
    CHECK_STR(lua_tostring(L, -1), "VSphereSource");
    lua_pop(L, 2);
    CHECK_INT(vsg_lua_context(vsg_lua_script_state(sc)),
              VSG_LUA_CTX_RECONCILE);
    vsg_lua_script_free(sc);
}

static void test_memory_per_loaded_filter(void)
{
    struct vsg_lua_script *sc = new_filter();
    struct vsg_error err;
    struct vsg_lua *s;

    CHECK_INT(update(sc, "local want = { ['com.vmware.vsphere.VmPoweredOnEvent"
                         ".v0'] = true }\nfunction filter(ev) if want[ev] "
                         "then return ev end end\n",
                     dry_run, &err),
              VSG_OK);
    s = vsg_lua_script_state(sc);
    lua_gc(vsg_lua_L(s), LUA_GCCOLLECT);
    printf("  memory per loaded type filter: %zu bytes\n", vsg_lua_memory(s));
    CHECK(vsg_lua_memory(s) < 128 * 1024);
    vsg_lua_script_free(sc);
}

/* Every shipped plugin module loads in the sandbox, and a filter made of
 * them runs over an event decoded from JSON by the C API. */
static void test_shipped_plugins(void)
{
    const char *root = getenv("VSG_SOURCE_DIR");
    char dir[1024];
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua_script *sc;
    struct vsg_lua *s;
    lua_State *L;
    struct vsg_buf out;
    DIR *d;
    struct dirent *de;
    int n = 0;
    static const char main_text[] =
        "local chain = require 'filter.chain'\n"
        "local types = require 'filter.types'\n"
        "local ext = require 'filter.extensions'\n"
        "filter = chain{ types.exclude{'UserLoginSessionEvent'},\n"
        "                ext.add{team = 'infra'} }\n";
    static const char event[] =
        "{\"id\":\"42\",\"source\":\"https://vc/sdk\",\"type\":"
        "\"com.vmware.vsphere.VmPoweredOnEvent.v0\",\"data\":{\"Key\":"
        "9007199254740993,\"Vm\":{\"Name\":\"vm1\"},\"Tags\":[]}}";
    struct vsg_lua_source src = {"filter.lua", main_text,
                                 sizeof main_text - 1};

    if (root == NULL) CHECK_FAIL_("VSG_SOURCE_DIR is not set");
    memset(&cfg, 0, sizeof cfg);
    cfg.kind = VSG_LUA_KIND_FILTER;
    cfg.root = root;
    sc = vsg_lua_script_new(&cfg, "filter", &err);
    CHECK(sc != NULL);
    CHECK_INT(vsg_lua_script_update(sc, &src, NULL, 0, NULL, NULL, &err),
              VSG_OK);
    s = vsg_lua_script_state(sc);
    L = vsg_lua_L(s);

    /* Each plugins/filter/<x>.lua is require-able as "filter.<x>". */
    (void)snprintf(dir, sizeof dir, "%s/plugins/filter", root);
    d = opendir(dir);
    CHECK(d != NULL);
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        char code[256];

        if (len < 5 || strcmp(de->d_name + len - 4, ".lua") != 0) continue;
        (void)snprintf(code, sizeof code, "return require 'filter.%.*s' ~= nil",
                       (int)(len - 4), de->d_name);
        CHECK_INT(vsg_lua_load(s, "probe.lua", code, strlen(code), &err),
                  VSG_OK);
        if (vsg_lua_pcall(s, 0, 1, &err) != VSG_OK) {
            closedir(d);
            CHECK_FAIL_("%s: %s", de->d_name, err.msg);
        }
        CHECK(lua_toboolean(L, -1));
        lua_pop(L, 1);
        n++;
    }
    closedir(d);
    CHECK(n >= 5);

    CHECK_INT(vsg_lua_script_push_entry(sc), VSG_OK);
    CHECK_INT(vsg_lua_json_decode(L, event, sizeof event - 1, &err), VSG_OK);
    CHECK_INT(vsg_lua_pcall(s, 1, 1, &err), VSG_OK);
    vsg_buf_init(&out, 4096);
    CHECK_INT(vsg_lua_json_encode(L, -1, &out, &err), VSG_OK);
    lua_pop(L, 1);
    CHECK_HAS(out.data, "\"Key\":9007199254740993");
    CHECK_HAS(out.data, "\"Tags\":[]");
    CHECK_HAS(out.data, "\"team\":\"infra\"");
    vsg_buf_cleanup(&out);
    CHECK_INT(lua_gettop(L), 0);
    vsg_lua_script_free(sc);
}

TEST_LIST = {
    {"first_version_and_swap", test_first_version_and_swap},
    {"keeps_old_on_compile_error", test_keeps_old_on_compile_error},
    {"keeps_old_on_missing_entry", test_keeps_old_on_missing_entry},
    {"keeps_old_on_failing_main_or_dry_run",
     test_keeps_old_on_failing_main_or_dry_run},
    {"modules_from_configmap", test_modules_from_configmap},
    {"module_without_entry", test_module_without_entry},
    {"memory_per_loaded_filter", test_memory_per_loaded_filter},
    {"shipped_plugins", test_shipped_plugins},
    {NULL, NULL}};

TEST_MAIN()
