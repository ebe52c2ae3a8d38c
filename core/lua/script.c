/*
 * script.c - reloadable scripts (see script.h).
 *
 * The entry function and the module table live in the state's registry
 * under this file's keys (one script per state), so switching versions is
 * switching states.
 */
#include "lua/script.h"

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>

#include "base/mem.h"

/* Registry keys: the addresses of these variables. */
static const char key_entry = 'e';  /* The entry function. */
static const char key_module = 'm'; /* The module table. */

struct vsg_lua_script {
    struct vsg_lua_config cfg; /* The config; its strings are the copies
                                  below. */
    char *name;                /* Copy of cfg.name, or NULL. */
    char *root;                /* Copy of cfg.root, or NULL. */
    char *search_path;         /* Copy of cfg.search_path, or NULL. */
    char *entry;               /* Entry function name, or NULL. */
    struct vsg_lua *state;     /* The version in use, or NULL. */
    uint64_t version;          /* Versions swapped in so far. */
    uint64_t hash;             /* FNV-1a of the sources in use. */
    char hash_hex[17];         /* hash in hex; "" while no version. */
};

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/* Copies `s` (NULL stays NULL); 0 on success, -1 out of memory. */
static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (s == NULL) return 0;
    *out = vsg_strdup(s);
    return *out != NULL ? 0 : -1;
}

struct vsg_lua_script *vsg_lua_script_new(const struct vsg_lua_config *cfg,
                                          const char *entry,
                                          struct vsg_error *err)
{
    struct vsg_lua_script *sc;

    if (cfg == NULL) {
        vsg_error_set(err, VSG_ERR_INVAL, "no Lua script configuration");
        return NULL;
    }
    sc = vsg_calloc(1, sizeof *sc);
    if (sc == NULL) goto nomem;
    sc->cfg = *cfg;
    if (dup_opt(cfg->name, &sc->name) != 0 ||
        dup_opt(cfg->root, &sc->root) != 0 ||
        dup_opt(cfg->search_path, &sc->search_path) != 0 ||
        dup_opt(entry, &sc->entry) != 0)
        goto nomem;
    sc->cfg.name = sc->name;
    sc->cfg.root = sc->root;
    sc->cfg.search_path = sc->search_path;
    return sc;

nomem:
    vsg_lua_script_free(sc);
    vsg_error_set(err, VSG_ERR_NOMEM, "cannot create a Lua script");
    return NULL;
}

void vsg_lua_script_free(struct vsg_lua_script *sc)
{
    if (sc == NULL) return;
    vsg_lua_close(sc->state);
    vsg_free(sc->name);
    vsg_free(sc->root);
    vsg_free(sc->search_path);
    vsg_free(sc->entry);
    vsg_free(sc);
}

/* ====================================================================
 * Updating
 * ==================================================================== */

/* FNV-1a 64 over `n` bytes, continuing from `h`. */
static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* The hash of one source: its name, a NUL, its text, a NUL. */
static uint64_t hash_source(uint64_t h, const struct vsg_lua_source *s)
{
    const char *name = s->name != NULL ? s->name : "";

    h = fnv1a(h, name, strlen(name) + 1);
    if (s->text != NULL) h = fnv1a(h, s->text, s->len);
    return fnv1a(h, "", 1);
}

/* Arguments of prepare(). */
struct prepare_args {
    const char *entry; /* Entry function name, or NULL. */
};

/*
 * [-2, +0, e] Runs the main chunk (argument 1; argument 2 is the struct
 * prepare_args), then stores the module and the entry function in the
 * registry. Raises when the entry function is missing.
 */
static int prepare(lua_State *L)
{
    const struct prepare_args *a = lua_touserdata(L, 2);
    int module;
    lua_Debug ar;

    lua_settop(L, 1);
    if (lua_getupvalue(L, 1, 1) == NULL) lua_pushnil(L); /* 2: the env */
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);                                    /* 3: result */
    module = lua_istable(L, 3) ? 3 : 2;
    lua_pushvalue(L, module);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_module);
    if (a->entry == NULL) return 0;

    lua_pushstring(L, a->entry);                          /* 4 */
    lua_pushvalue(L, 4);
    if (lua_type(L, module) == LUA_TTABLE) lua_rawget(L, module);
    if (!lua_isfunction(L, -1) && module == 3 && lua_istable(L, 2)) {
        lua_pop(L, 1);
        lua_pushvalue(L, 4);
        lua_rawget(L, 2);
    }
    if (!lua_isfunction(L, -1)) {
        lua_pushvalue(L, 1);
        lua_getinfo(L, ">S", &ar);
        return luaL_error(L, "%s: no function '%s' (define a global "
                             "function %s or return a table with one)",
                          ar.short_src, a->entry, a->entry);
    }
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_entry);
    return 0;
}

/* Builds the candidate state; on success `*out` holds it. */
static enum vsg_err build(struct vsg_lua_script *sc,
                          const struct vsg_lua_source *main,
                          const struct vsg_lua_source *modules,
                          size_t nmodules, struct vsg_lua **out,
                          struct vsg_error *err)
{
    struct vsg_lua *s = NULL;
    struct prepare_args a;
    lua_State *L;
    enum vsg_err rc;

    *out = NULL;
    s = vsg_lua_newstate(&sc->cfg, err);
    if (s == NULL) return err != NULL ? err->code : VSG_ERR_NOMEM;
    L = vsg_lua_L(s);
    for (size_t i = 0; i < nmodules; i++) {
        rc = vsg_lua_add_module(s, modules[i].name, modules[i].text,
                                modules[i].len, err);
        if (rc != VSG_OK) goto fail;
    }
    rc = vsg_lua_load(s, main->name, main->text, main->len, err);
    if (rc != VSG_OK) goto fail;
    a.entry = sc->entry;
    lua_pushcfunction(L, prepare);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &a);
    rc = vsg_lua_pcall(s, 2, 0, err);
    if (rc != VSG_OK) goto fail;
    *out = s;
    return VSG_OK;

fail:
    vsg_lua_close(s);
    return rc;
}

enum vsg_err vsg_lua_script_update(struct vsg_lua_script *sc,
                                   const struct vsg_lua_source *main,
                                   const struct vsg_lua_source *modules,
                                   size_t nmodules, vsg_lua_check_fn check,
                                   void *ud, struct vsg_error *err)
{
    struct vsg_lua *s = NULL, *old;
    struct vsg_lua_script cand;
    struct vsg_error cerr;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    enum vsg_err rc;

    if (sc == NULL || main == NULL || (nmodules > 0 && modules == NULL))
        return vsg_error_set(err, VSG_ERR_INVAL, "no script to load");
    h = hash_source(h, main);
    for (size_t i = 0; i < nmodules; i++) h = hash_source(h, &modules[i]);
    if (sc->state != NULL && h == sc->hash) return VSG_OK;

    rc = build(sc, main, modules, nmodules, &s, err);
    if (rc != VSG_OK) return rc;
    vsg_lua_set_context(s, vsg_lua_kind_context(sc->cfg.kind));

    if (check != NULL) {
        cand = *sc;
        cand.state = s;
        cand.version = sc->version + 1;
        cand.hash = h;
        (void)snprintf(cand.hash_hex, sizeof cand.hash_hex, "%016llx",
                       (unsigned long long)h);
        vsg_error_clear(&cerr);
        rc = check(&cand, ud, &cerr);
        lua_settop(vsg_lua_L(s), 0);
        if (rc != VSG_OK) {
            if (cerr.code == VSG_OK)
                vsg_error_set(&cerr, rc, "script check failed");
            vsg_error_set(err, rc, "%s", cerr.msg);
            vsg_lua_close(s);
            return rc;
        }
    }

    old = sc->state;
    sc->state = s;
    sc->version++;
    sc->hash = h;
    (void)snprintf(sc->hash_hex, sizeof sc->hash_hex, "%016llx",
                   (unsigned long long)h);
    vsg_lua_close(old);
    return VSG_OK;
}

/* ====================================================================
 * Using the version in use
 * ==================================================================== */

struct vsg_lua *vsg_lua_script_state(const struct vsg_lua_script *sc)
{
    return sc != NULL ? sc->state : NULL;
}

/* [-0, +1, -] Pushes registry[key] of the version in use. */
static enum vsg_err push_key(const struct vsg_lua_script *sc,
                             const void *key)
{
    lua_State *L;

    if (sc == NULL || sc->state == NULL) return VSG_ERR_INVALIDSTATE;
    L = vsg_lua_L(sc->state);
    if (!lua_checkstack(L, 1)) return VSG_ERR_NOMEM;
    lua_rawgetp(L, LUA_REGISTRYINDEX, key);
    return VSG_OK;
}

enum vsg_err vsg_lua_script_push_entry(const struct vsg_lua_script *sc)
{
    if (sc != NULL && sc->entry == NULL) return VSG_ERR_INVALIDSTATE;
    return push_key(sc, &key_entry);
}

enum vsg_err vsg_lua_script_push_module(const struct vsg_lua_script *sc)
{
    return push_key(sc, &key_module);
}

uint64_t vsg_lua_script_version(const struct vsg_lua_script *sc)
{
    return sc != NULL ? sc->version : 0;
}

const char *vsg_lua_script_hash(const struct vsg_lua_script *sc)
{
    return sc != NULL ? sc->hash_hex : "";
}
