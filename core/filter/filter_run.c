/*
 * filter/filter_run.c - one event through a filter version's state: the
 * event table, the call, and what the filter returned turned into
 * CloudEvents; the sample event of dry runs (see filter_stage.h and
 * internal.h).
 *
 * One event = one protected call on the version's state (run_protected):
 * build the event table, call filter(event), turn what it returned into
 * CloudEvents. Everything C allocates during that call hangs off the
 * struct run or the result, so a Lua error (script, limit, bad value)
 * leaks nothing: the caller frees them after the call.
 *
 * Laziness: the event table starts empty, with a metatable (one per
 * state) whose __index builds a field (an attribute, extensions, data) on
 * its first read, __newindex notes a field assigned before it was read,
 * and __pairs builds them all before iterating. They act only on the table
 * of the call in progress (registry key_cur): the event a script kept from
 * an earlier call cannot build anything any more (its tree is gone).
 * The bits of what was built and what was assigned let take_result() see
 * an event returned untouched, which is then sent as the original.
 */
#include "filter/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "filter/filter_value.h"
#include "lua/json.h"

/* Largest payload one event may be re-encoded to (as the engine). */
#define MAX_PAYLOAD (8u * 1024 * 1024)

/* Registry keys: the addresses of these. */
static const char key_event_mt = 'm'; /* Metatable of event tables. */
static const char key_run = 'r';      /* Light userdata: the struct run. */
static const char key_cur = 'c';      /* The event table of the call. */
static const char key_data = 'd';     /* Its data table, once built. */

/* What data of the event of the call in progress looks like. */
enum data_state {
    DATA_UNTOUCHED, /* Never read nor assigned: original payload. */
    DATA_BUILT,     /* Built (and maybe changed) by a read. */
    DATA_ASSIGNED   /* Assigned before any read. */
};


/* One event's protected call. */
struct run {
    const struct vsg_lua_script *script; /* Whose entry is called. */
    const struct vsg_event *ev;          /* The decoded event. */
    const struct vsg_ce *ce;             /* Its CloudEvent without a filter. */
    struct vsg_filter_result *res;       /* Where the events go. */
    enum data_state data;                /* See above. */
    unsigned built;                      /* FIELD_* bits already in the table. */
    unsigned assigned;                   /* FIELD_* bits assigned (or
                                            removed) before being built. */
    int data_same;                       /* The own data table is unchanged:
                                            -1 not known yet, 0, 1. */
    int evt;                             /* Stack index of the event table. */
    struct vsg_value tree;               /* Conversion output (reused). */
    struct vsg_buf payload;              /* Encoding output (reused). */
    size_t held;                         /* Bytes of the events built so far. */
    size_t held_max;                     /* What they may hold: the state's
                                            memory limit. */
};

/* ====================================================================
 * Results
 * ==================================================================== */

void vsg_filter_result_init(struct vsg_filter_result *r)
{
    memset(r, 0, sizeof *r);
}

/* Frees the events but keeps the array. */
void vsg__filter_result_clear(struct vsg_filter_result *r)
{
    for (size_t i = 0; i < r->n; i++) vsg_ce_cleanup(&r->ces[i]);
    r->n = 0;
    r->original = 0;
}

void vsg_filter_result_cleanup(struct vsg_filter_result *r)
{
    if (r == NULL) return;
    vsg__filter_result_clear(r);
    vsg_free(r->ces);
    vsg_filter_result_init(r);
}

/* A new empty event at the end of `r`, or NULL. */
static struct vsg_ce *result_add(struct vsg_filter_result *r)
{
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 2;
        struct vsg_ce *p = vsg_realloc(r->ces, cap * sizeof *p);
        if (p == NULL) return NULL;
        r->ces = p;
        r->cap = cap;
    }
    vsg_ce_init(&r->ces[r->n]);
    return &r->ces[r->n++];
}

/* ====================================================================
 * The event table
 * ==================================================================== */

/* The lazy fields of an event table, in this order; data is handled by
 * the data state (it is built from the tree, not from the CloudEvent). */
enum field {
    F_ID, F_SOURCE, F_TYPE, F_TIME, F_DCT, F_SUBJECT, F_DATASCHEMA, F_EXT, F_DATA, F_COUNT
};
static const char *const field_names[F_COUNT] = {
    "id", "source", "type", "time", "datacontenttype", "subject", "dataschema", "extensions", "data",
};

/* The field a key names (F_COUNT: none). */
static enum field field_of(lua_State *L, int idx)
{
    size_t n;
    const char *k;

    if (lua_type(L, idx) != LUA_TSTRING) return F_COUNT;
    k = lua_tolstring(L, idx, &n);
    for (int f = 0; f < F_COUNT; f++)
        if (strlen(field_names[f]) == n && memcmp(field_names[f], k, n) == 0) return (enum field)f;
    return F_COUNT;
}

/* The CloudEvent's value of attribute field `f` (NULL when unset). */
static const char *attr_value(const struct vsg_ce *ce, enum field f)
{
    switch (f) {
    case F_ID: return ce->id;
    case F_SOURCE: return ce->source;
    case F_TYPE: return ce->type;
    case F_TIME: return ce->time;
    case F_DCT: return ce->datacontenttype;
    case F_SUBJECT: return ce->subject;
    case F_DATASCHEMA: return ce->dataschema;
    default: return NULL;
    }
}

/* [-0, +0, -] The struct run of the call in progress, or NULL. */
static struct run *current_run(lua_State *L)
{
    struct run *r;

    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_run);
    r = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return r;
}

/* [-0, +0, -] The struct run when the table at `idx` is the event table of
 * the call in progress, else NULL. */
static struct run *run_of(lua_State *L, int idx)
{
    struct run *r = current_run(L);
    int eq;

    if (r == NULL) return NULL;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_cur);
    eq = lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    return eq ? r : NULL;
}

/* [-0, +1, m] Builds field `f` of the event table at 1, stores it there
 * and leaves its value on the stack. */
static void build_field(lua_State *L, struct run *r, enum field f)
{
    const struct vsg_ce *ce = r->ce;

    lua_pushstring(L, field_names[f]);
    if (f == F_DATA) {
        vsg_filter_push_value(L, &r->ev->root);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &key_data);
        r->data = DATA_BUILT;
    } else if (f == F_EXT) {
        lua_createtable(L, 0, (int)ce->n_ext);
        for (size_t i = 0; i < ce->n_ext; i++) {
            lua_pushstring(L, ce->ext[i].value);
            lua_setfield(L, -2, ce->ext[i].name);
        }
    } else {
        const char *v = attr_value(ce, f);
        if (v != NULL) lua_pushstring(L, v);
        else lua_pushnil(L);
    }
    r->built |= 1u << f;
    lua_pushvalue(L, -1);
    lua_insert(L, -3);
    lua_rawset(L, 1);
}

/* 1 when field `f` is still to be built. */
static int lazy(const struct run *r, enum field f)
{
    if (f == F_DATA) return r->data == DATA_UNTOUCHED;
    return f < F_COUNT && !((r->built | r->assigned) & (1u << f));
}

/* __index(t, k): a field on its first read; nil for anything else. */
static int ev_index(lua_State *L)
{
    enum field f = field_of(L, 2);
    struct run *r;

    if (f != F_COUNT && (r = run_of(L, 1)) != NULL && lazy(r, f)) {
        build_field(L, r, f);
        return 1;
    }
    lua_pushnil(L);
    return 1;
}

/* __newindex(t, k, v): notes a field assigned before it was read. */
static int ev_newindex(lua_State *L)
{
    enum field f = field_of(L, 2);
    struct run *r;

    if (f != F_COUNT && (r = run_of(L, 1)) != NULL && lazy(r, f)) {
        if (f == F_DATA) r->data = DATA_ASSIGNED;
        else r->assigned |= 1u << f;
    }
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 0;
}

/* The iterator of __pairs: next() without metamethods. */
static int ev_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1)) return 2;
    lua_pushnil(L);
    return 1;
}

/* __pairs(t): builds every field first, so copies made with pairs are
 * whole. */
static int ev_pairs(lua_State *L)
{
    struct run *r = run_of(L, 1);

    for (int f = 0; r != NULL && f < F_COUNT; f++)
        if (lazy(r, (enum field)f)) {
            build_field(L, r, (enum field)f);
            lua_pop(L, 1);
        }
    lua_pushcfunction(L, ev_next);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* [-0, +1, m] Pushes the event metatable (made once per state). */
static void push_event_mt(lua_State *L)
{
    static const luaL_Reg mm[] = {
        {"__index", ev_index},
        {"__newindex", ev_newindex},
        {"__pairs", ev_pairs},
        {NULL, NULL},
    };

    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &key_event_mt) == LUA_TTABLE) return;
    lua_pop(L, 1);
    lua_createtable(L, 0, 4);
    luaL_setfuncs(L, mm, 0);
    lua_pushliteral(L, "vsg.event");
    lua_setfield(L, -2, "__metatable");
    vsg_lua_mark_settable(L, -1);
    lua_pushvalue(L, -1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_event_mt);
}

/* [-0, +1, m] Pushes a new event table: empty, every field lazy. */
static void push_event(lua_State *L)
{
    lua_createtable(L, 0, 4);
    push_event_mt(L);
    lua_setmetatable(L, -2);
}

/* ====================================================================
 * Returned tables -> CloudEvents
 * ==================================================================== */

/* Payload encodings a table can be sent as. */
enum encoding { ENC_OTHER, ENC_JSON, ENC_XML };

/* Which encoding a datacontenttype names ("application/json",
 * "application/xml", optionally with parameters; case-insensitive). */
static enum encoding encoding_of(const char *ct)
{
    static const struct {
        const char *name;
        enum encoding enc;
    } known[] = {{"application/json", ENC_JSON}, {"application/xml", ENC_XML}};

    if (ct == NULL) return ENC_OTHER;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t n = strlen(known[i].name);
        if (strncasecmp(ct, known[i].name, n) == 0 &&
            (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '))
            return known[i].enc;
    }
    return ENC_OTHER;
}

/* Raises "<what>: <message of err>" or out of memory. */
static int raise_ce(lua_State *L, const char *what, const struct vsg_error *err)
{
    return luaL_error(L, "%s%s", what, err->msg);
}

/*
 * [-0, +0, e] The string attribute `k` of the table at `idx` (NULL when
 * nil or vsg.null); raises when it is another type, or empty and
 * `required`.
 */
static const char *attr_string(lua_State *L, int idx, const char *k, int required)
{
    const char *s;
    size_t n;

    lua_getfield(L, idx, k);
    if (lua_isnil(L, -1) || vsg_lua_isnull(L, -1)) {
        lua_pop(L, 1);
        if (required)
            luaL_error(L, "returned event: %s must be a non-empty string (it is nil)", k);
        return NULL;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "returned event: %s must be a string (it is a %s)", k,
                   luaL_typename(L, -1));
    s = lua_tolstring(L, -1, &n);
    if (required && n == 0) luaL_error(L, "returned event: %s must not be empty", k);
    if (strlen(s) != n) luaL_error(L, "returned event: %s holds a NUL byte", k);
    /* The table holds the string: it stays valid after the pop. */
    lua_pop(L, 1);
    return s;
}

/* [-0, +0, e] Sets one extension from the value at the top (popped). */
static void set_ext_value(lua_State *L, struct vsg_ce *out, const char *name)
{
    char num[32];
    const char *v = NULL;
    struct vsg_error err;

    switch (lua_type(L, -1)) {
    case LUA_TSTRING:
        v = lua_tostring(L, -1);
        break;
    case LUA_TBOOLEAN:
        v = lua_toboolean(L, -1) ? "true" : "false";
        break;
    case LUA_TNUMBER:
        if (!lua_isinteger(L, -1))
            luaL_error(L, "returned event: extension %s is a float; use a string or an integer", name);
        (void)snprintf(num, sizeof num, LUA_INTEGER_FMT, (LUAI_UACINT)lua_tointeger(L, -1));
        v = num;
        break;
    case LUA_TNIL:
        break;
    default:
        if (vsg_lua_isnull(L, -1)) break;
        luaL_error(L, "returned event: extension %s is a %s; use a string, an integer or a boolean",
                   name, luaL_typename(L, -1));
    }
    if (v != NULL && vsg_ce_set_ext(out, name, v, &err) != VSG_OK)
        raise_ce(L, "returned event: extensions: ", &err);
    lua_pop(L, 1);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* [-0, +0, e] The extensions of the returned table at `idx`: the original
 * names first, in their order, then new ones sorted. */
static void set_extensions(lua_State *L, struct run *r, int idx, struct vsg_ce *out)
{
    int ext;
    size_t n = 0, cap;
    const char **names;

    lua_getfield(L, idx, "extensions");
    ext = lua_gettop(L);
    if (lua_isnil(L, ext) || vsg_lua_isnull(L, ext)) {
        lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, ext))
        luaL_error(L, "returned event: extensions must be a table (it is a %s)", luaL_typename(L, ext));
    for (size_t i = 0; i < r->ce->n_ext; i++) {
        lua_getfield(L, ext, r->ce->ext[i].name);
        set_ext_value(L, out, r->ce->ext[i].name);
    }
    cap = lua_rawlen(L, ext) + 16;
    lua_pushnil(L);
    while (lua_next(L, ext) != 0) {
        lua_pop(L, 1);
        cap++;
    }
    names = lua_newuserdatauv(L, cap * sizeof *names, 0);
    lua_pushnil(L);
    while (lua_next(L, ext) != 0) {
        const char *k;
        int known = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "returned event: extensions: names must be strings (found a %s)",
                       luaL_typename(L, -1));
        k = lua_tostring(L, -1);
        for (size_t i = 0; i < r->ce->n_ext && !known; i++)
            known = strcmp(k, r->ce->ext[i].name) == 0;
        if (!known && n < cap) names[n++] = k;
    }
    qsort(names, n, sizeof *names, cmp_cstr);
    for (size_t i = 0; i < n; i++) {
        lua_getfield(L, ext, names[i]);
        set_ext_value(L, out, names[i]);
    }
    lua_pop(L, 2);
}

/* [-0, +0, e] Refuses top-level keys that are not attributes. */
static void check_keys(lua_State *L, int idx)
{
    static const char *const allowed[] = {
        "id", "source", "type", "time", "datacontenttype", "subject",
        "dataschema", "specversion", "extensions", "data", NULL,
    };

    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        const char *k;
        int ok = 0;
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "returned event: keys must be strings (found a %s key)",
                       luaL_typename(L, -1));
        k = lua_tostring(L, -1);
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(k, *a) == 0;
        if (!ok)
            luaL_error(L, "returned event: unknown attribute '%s' (extension attributes go in "
                          "event.extensions)", k);
    }
}

/* Encodes `v` (the root of a payload) as `enc` into r->payload. */
static void encode_tree(lua_State *L, struct run *r, const struct vsg_value *v, enum encoding enc)
{
    enum vsg_err rc;

    vsg_buf_reset(&r->payload);
    if (enc == ENC_JSON) {
        rc = vsg_value_encode_json(v, &r->payload);
    } else {
        const char *root = v->kind == VSG_VALUE_OBJECT && v->u.list.type != NULL
                               ? v->u.list.type
                               : (r->ev->class_name ? r->ev->class_name : "Event");
        rc = vsg_value_encode_xml(v, root, &r->payload);
    }
    if (rc != VSG_OK)
        luaL_error(L, "returned event: data: cannot be encoded: %s", vsg_strerror(rc));
}

/* [-0, +0, m] 1 when the value at `idx` is the event's own data table,
 * read but not changed (cached for the call). */
static int own_data_same(lua_State *L, struct run *r, int idx)
{
    int own;

    if (r->data != DATA_BUILT || !lua_istable(L, idx)) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_data);
    own = lua_rawequal(L, idx, -1);
    lua_pop(L, 1);
    if (!own) return 0;
    if (r->data_same < 0) r->data_same = vsg_filter_value_same(L, idx, &r->ev->root);
    return r->data_same;
}

/* [-0, +0, e] The payload of the returned table at `idx`. */
static void set_payload(lua_State *L, struct run *r, int idx, struct vsg_ce *out)
{
    const char *ct = out->datacontenttype;
    enum encoding enc = encoding_of(ct);
    int is_orig = lua_rawequal(L, idx, r->evt);

    if (is_orig && r->data == DATA_UNTOUCHED) {
        const char *oct = r->ce->datacontenttype;
        if ((ct == NULL && oct == NULL) || (ct != NULL && oct != NULL && strcmp(ct, oct) == 0) ||
            (enc != ENC_OTHER && enc == encoding_of(oct))) {
            if (r->ce->data != NULL && vsg_ce_set_data(out, r->ce->data, r->ce->data_len) != VSG_OK)
                luaL_error(L, "out of memory");
            return;
        }
        if (enc == ENC_OTHER)
            luaL_error(L, "returned event: datacontenttype '%s' needs event.data set to a string",
                       ct ? ct : "");
        encode_tree(L, r, &r->ev->root, enc);
        if (vsg_ce_set_data(out, r->payload.data, r->payload.len) != VSG_OK)
            luaL_error(L, "out of memory");
        return;
    }
    if (is_orig) {
        lua_pushliteral(L, "data");
        lua_rawget(L, idx);
    } else {
        lua_getfield(L, idx, "data");
    }
    switch (lua_type(L, -1)) {
    case LUA_TNIL:
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, -1, &n);
        if (vsg_ce_set_data(out, s, n) != VSG_OK) luaL_error(L, "out of memory");
        break;
    }
    case LUA_TTABLE: {
        int own;
        if (enc == ENC_OTHER)
            luaL_error(L, "returned event: data is a table, which can only be sent as "
                          "application/json or application/xml (datacontenttype is '%s')",
                       ct ? ct : "");
        /* Read but unchanged: the original bytes, no re-encoding. */
        if (enc == encoding_of(r->ce->datacontenttype) && own_data_same(L, r, lua_gettop(L))) {
            if (r->ce->data != NULL &&
                vsg_ce_set_data(out, r->ce->data, r->ce->data_len) != VSG_OK)
                luaL_error(L, "out of memory");
            break;
        }
        /* The event's own data table (changed or not) is typed by the
         * original tree; a table that replaces it is sent as it is. */
        lua_rawgetp(L, LUA_REGISTRYINDEX, &key_data);
        own = lua_rawequal(L, -1, -2);
        lua_pop(L, 1);
        vsg_value_cleanup(&r->tree);
        vsg_filter_to_value(L, -1, own ? &r->ev->root : NULL, &r->tree, enc == ENC_XML,
                            "returned event: data");
        encode_tree(L, r, &r->tree, enc);
        if (vsg_ce_set_data(out, r->payload.data, r->payload.len) != VSG_OK)
            luaL_error(L, "out of memory");
        break;
    }
    default:
        if (vsg_lua_isnull(L, -1)) break;
        luaL_error(L, "returned event: data must be a table, a string or nil (it is a %s)",
                   luaL_typename(L, -1));
    }
    lua_pop(L, 1);
}

/* Bytes an event holds (attributes, extensions, payload). */
static size_t ce_bytes(const struct vsg_ce *ce)
{
    const char *const attrs[] = {ce->id, ce->source, ce->type, ce->time, ce->datacontenttype,
                                 ce->dataschema, ce->subject};
    size_t n = ce->data_len + sizeof *ce;

    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (attrs[i]) n += strlen(attrs[i]) + 1;
    for (size_t i = 0; i < ce->n_ext; i++)
        n += strlen(ce->ext[i].name) + strlen(ce->ext[i].value) + 2 + sizeof ce->ext[i];
    return n;
}

/* [-0, +0, e] Turns the returned event table at `idx` into a CloudEvent;
 * `pos` is its 1-based position in a fan-out array, 0 for none. */
static void to_ce(lua_State *L, struct run *r, int idx, lua_Integer pos)
{
    struct vsg_ce *out = result_add(r->res);
    struct vsg_error err;
    const char *id, *s;
    char fid[256];

    if (out == NULL) luaL_error(L, "out of memory");
    idx = lua_absindex(L, idx);
    check_keys(L, idx);
    id = attr_string(L, idx, "id", 1);
    if (pos > 0 && r->ce->id != NULL && strcmp(id, r->ce->id) == 0) {
        (void)snprintf(fid, sizeof fid, "%s-" LUA_INTEGER_FMT, id, (LUAI_UACINT)pos);
        id = fid;
    }
    s = attr_string(L, idx, "specversion", 0);
    if (s != NULL && strcmp(s, VSG_CE_SPECVERSION) != 0)
        luaL_error(L, "returned event: specversion must be \"1.0\"");
    if (vsg_ce_set(out, "id", id, &err) != VSG_OK ||
        vsg_ce_set(out, "source", attr_string(L, idx, "source", 1), &err) != VSG_OK ||
        vsg_ce_set(out, "type", attr_string(L, idx, "type", 1), &err) != VSG_OK)
        raise_ce(L, "returned event: ", &err);
    if ((s = attr_string(L, idx, "time", 0)) != NULL) {
        struct vsg_time t;
        if (vsg_time_parse_rfc3339(s, &t) != VSG_OK)
            luaL_error(L, "returned event: time must be an RFC 3339 timestamp, not \"%s\"", s);
        if (vsg_ce_set(out, "time", s, &err) != VSG_OK) raise_ce(L, "returned event: ", &err);
    }
    s = attr_string(L, idx, "datacontenttype", 0);
    if (s == NULL) s = r->ce->datacontenttype;
    if (s != NULL && vsg_ce_set(out, "datacontenttype", s, &err) != VSG_OK)
        raise_ce(L, "returned event: ", &err);
    if (((s = attr_string(L, idx, "subject", 0)) != NULL &&
         vsg_ce_set(out, "subject", s, &err) != VSG_OK) ||
        ((s = attr_string(L, idx, "dataschema", 0)) != NULL &&
         vsg_ce_set(out, "dataschema", s, &err) != VSG_OK))
        raise_ce(L, "returned event: ", &err);
    set_extensions(L, r, idx, out);
    set_payload(L, r, idx, out);
    /* What the adapter will hold for this call counts against the memory
     * limit too: 250 copies of one 8 MB string cost the state 8 MB, but
     * the adapter 2 GB. At most one event's worth past the limit is ever
     * built. */
    r->held += ce_bytes(out);
    if (r->held > r->held_max)
        luaL_error(L, "memory limit exceeded (%I bytes): the events returned so far hold %I bytes",
                   (lua_Integer)r->held_max, (lua_Integer)r->held);
}

/* 1 when two optional strings are equal. */
static int str_eq(const char *a, const char *b)
{
    return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* 1 when `a` and `b` would be sent identically. */
static int ce_equal(const struct vsg_ce *a, const struct vsg_ce *b)
{
    if (!str_eq(a->id, b->id) || !str_eq(a->source, b->source) || !str_eq(a->type, b->type) ||
        !str_eq(a->time, b->time) || !str_eq(a->datacontenttype, b->datacontenttype) ||
        !str_eq(a->subject, b->subject) || !str_eq(a->dataschema, b->dataschema) ||
        a->n_ext != b->n_ext || a->data_len != b->data_len)
        return 0;
    for (size_t i = 0; i < a->n_ext; i++)
        if (strcmp(a->ext[i].name, b->ext[i].name) != 0 ||
            strcmp(a->ext[i].value, b->ext[i].value) != 0)
            return 0;
    return a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0;
}

/* [-0, +0, -] 1 when the string at `idx` equals `s` (NULL: never). */
static int str_is(lua_State *L, int idx, const char *s)
{
    size_t n;
    const char *v;

    if (s == NULL || lua_type(L, idx) != LUA_TSTRING) return 0;
    v = lua_tolstring(L, idx, &n);
    return n == strlen(s) && memcmp(v, s, n) == 0;
}

/* [-0, +0, -] 1 when the table at `t` holds exactly the extensions of
 * `ce` (plain table, same names and string values). */
static int ext_unchanged(lua_State *L, int t, const struct vsg_ce *ce)
{
    size_t n = 0;

    if (!lua_istable(L, t)) return 0;
    if (lua_getmetatable(L, t)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        const char *en = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
        n++;
        if (en == NULL || vsg_ce_attr_reserved(en) || !str_is(L, -1, vsg_ce_get(ce, en))) {
            lua_pop(L, 2);
            return 0;
        }
        lua_pop(L, 1);
    }
    return n == ce->n_ext;
}

/* [-0, +0, -] 1 when the event table at `idx` (the original one, data
 * never read nor assigned) still says exactly what `ce` says, so `ce` can
 * be sent as is: no field was assigned before it was read, and every field
 * read still holds its value. Anything unusual answers 0 (the full path
 * decides). */
static int unchanged(lua_State *L, struct run *r, int idx)
{
    int want = r->data == DATA_BUILT, seen = 0;

    if (r->assigned != 0 || r->data == DATA_ASSIGNED) return 0;
    /* The fields read that had a value: each must still be there. */
    for (int f = 0; f < F_DATA; f++)
        if ((r->built & (1u << f)) && (f == F_EXT || attr_value(r->ce, (enum field)f) != NULL)) want++;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        enum field f = field_of(L, -2);
        int ok = f == F_DATA ? own_data_same(L, r, lua_gettop(L))
                 : f < F_DATA && (r->built & (1u << f)) &&
                       (f == F_EXT ? ext_unchanged(L, lua_gettop(L), r->ce)
                                   : str_is(L, -1, attr_value(r->ce, f)));
        if (!ok) {
            lua_pop(L, 2);
            return 0;
        }
        seen++;
        lua_pop(L, 1);
    }
    return seen == want;
}

/* [-1, +0, e] Interprets the value the filter returned (at the top). */
static void take_result(lua_State *L, struct run *r)
{
    int res = lua_gettop(L);
    struct vsg_filter_result *out = r->res;

    if (lua_isnil(L, res) || (lua_isboolean(L, res) && !lua_toboolean(L, res))) {
        out->outcome = VSG_FILTER_DROPPED;
    } else if (!lua_istable(L, res)) {
        luaL_error(L, "the filter returned a %s (return the event, nil or false to drop it, "
                      "or an array of events)", luaL_typename(L, res));
    } else if (lua_rawequal(L, res, r->evt) && unchanged(L, r, res)) {
        /* The event as it came: send the original, copy nothing. */
        out->outcome = VSG_FILTER_KEPT;
        out->original = 1;
    } else if (lua_getfield(L, res, "id") != LUA_TNIL) {
        lua_pop(L, 1);
        to_ce(L, r, res, 0);
        out->outcome = ce_equal(&out->ces[0], r->ce) ? VSG_FILTER_KEPT : VSG_FILTER_CHANGED;
    } else {
        lua_Integer n = (lua_Integer)lua_rawlen(L, res);
        lua_pop(L, 1);
        if (n == 0) {
            lua_pushnil(L);
            if (lua_next(L, res) != 0)
                luaL_error(L, "the filter returned a table that is neither an event (it has no "
                              "id) nor an array of events");
            out->outcome = VSG_FILTER_DROPPED;
        } else if (n > VSG_FILTER_MAX_FANOUT) {
            luaL_error(L, "the filter returned %d events (at most %d)", (int)n,
                       VSG_FILTER_MAX_FANOUT);
        } else {
            for (lua_Integer i = 1; i <= n; i++) {
                int t = lua_rawgeti(L, res, i);
                if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
                    lua_pop(L, 1);
                    continue;
                }
                if (t != LUA_TTABLE)
                    luaL_error(L, "element %d of the returned array is a %s, not an event",
                               (int)i, luaL_typename(L, -1));
                to_ce(L, r, -1, i);
                lua_pop(L, 1);
            }
            out->outcome = VSG_FILTER_FANOUT;
        }
    }
    lua_settop(L, res - 1);
}

/* [-1, +0, e] The protected body of one event (argument: struct run). */
static int run_protected(lua_State *L)
{
    struct run *r = lua_touserdata(L, 1);

    lua_settop(L, 0);
    lua_pushlightuserdata(L, r);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_run);
    if (vsg_lua_script_push_entry(r->script) != VSG_OK)  /* 1: filter */
        return luaL_error(L, "the filter has no entry function");
    push_event(L);                                        /* 2: event */
    r->evt = 2;
    lua_pushvalue(L, 2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_cur);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 1, 1);                                    /* 3: result */
    take_result(L, r);
    return 0;
}

/* Runs `ce`/`ev` through script `sc` into `res` (outcome ERROR on any
 * failure, with no events). */
void vsg__filter_run_script(const struct vsg_lua_script *sc, const struct vsg_event *ev,
                            const struct vsg_ce *ce, struct vsg_filter_result *res)
{
    struct vsg_lua *s = vsg_lua_script_state(sc);
    struct run r;
    lua_State *L;
    enum vsg_err rc;

    vsg__filter_result_clear(res);
    res->read_data = 0;
    vsg_error_clear(&res->error);
    memset(&r, 0, sizeof r);
    r.script = sc;
    r.data_same = -1;
    r.held_max = s != NULL ? vsg_lua_limits(s).memory : 0;
    r.ev = ev;
    r.ce = ce;
    r.res = res;
    vsg_buf_init(&r.payload, MAX_PAYLOAD);
    if (s == NULL) {
        vsg_error_set(&res->error, VSG_ERR_INVALIDSTATE, "no filter loaded");
        res->outcome = VSG_FILTER_ERROR;
        return;
    }
    L = vsg_lua_L(s);
    rc = vsg_lua_cpcall(s, run_protected, &r, 0, &res->error);
    /* Assigning nil to a registry key never allocates. */
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_run);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_cur);
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_data);
    res->read_data = r.data == DATA_BUILT;
    vsg_value_cleanup(&r.tree);
    vsg_buf_cleanup(&r.payload);
    if (rc != VSG_OK) {
        vsg__filter_result_clear(res);
        res->outcome = VSG_FILTER_ERROR;
        /* Errors found in what the filter returned (after it ran, so with
         * no line) name the script all the same. */
        if (!vsg_lua_error_has_location(res->error.msg) &&
            vsg_lua_script_push_entry(sc) == VSG_OK) {
            lua_Debug ar;
            char msg[VSG_ERROR_MSG_MAX];

            if (lua_getinfo(L, ">S", &ar) && ar.short_src[0] != '\0' && ar.short_src[0] != '[') {
                (void)snprintf(msg, sizeof msg, "%s", res->error.msg);
                vsg_error_set(&res->error, res->error.code, "%s: %s", ar.short_src, msg);
            }
        }
    }
}

/* ====================================================================
 * The sample event and CloudEvents of events
 * ==================================================================== */

/* A VmPoweredOnEvent as vCenter sends it (trimmed). */
static const char sample_xml[] =
    "<returnval xmlns=\"urn:vim25\" "
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"VmPoweredOnEvent\">"
    "<key>23192</key><chainId>23182</chainId><createdTime>2021-09-27T19:02:54.063Z</createdTime>"
    "<userName>VSPHERE.LOCAL\\Administrator</userName>"
    "<datacenter><name>DC0</name><datacenter type=\"Datacenter\">datacenter-2</datacenter></datacenter>"
    "<computeResource><name>DC0_C0</name><computeResource type=\"ClusterComputeResource\">"
    "domain-c7</computeResource></computeResource>"
    "<host><name>DC0_C0_H0</name><host type=\"HostSystem\">host-33</host></host>"
    "<vm><name>DC0_C0_RP0_VM0</name><vm type=\"VirtualMachine\">vm-45</vm></vm>"
    "<fullFormattedMessage>DC0_C0_RP0_VM0 on DC0_C0_H0 in DC0 is powered on</fullFormattedMessage>"
    "<template>false</template></returnval>";

enum vsg_err vsg_filter_sample(struct vsg_event *ev, struct vsg_ce *ce, struct vsg_error *err)
{
    xmlDoc *doc = xmlReadMemory(sample_xml, (int)sizeof sample_xml - 1, "sample.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    enum vsg_err rc;

    memset(ev, 0, sizeof *ev);
    if (doc == NULL) return vsg_error_set(err, VSG_ERR_NOMEM, "cannot parse the sample event");
    rc = vsg_event_decode(xmlDocGetRootElement(doc), NULL, ev, err);
    xmlFreeDoc(doc);
    if (rc != VSG_OK) return rc;
    rc = vsg_filter_build_ce(ev, "https://vcenter.example.com/sdk", "8.0.3.0", 1, ce, err);
    if (rc != VSG_OK) vsg_event_cleanup(ev);
    return rc;
}

enum vsg_err vsg_filter_build_ce(const struct vsg_event *ev, const char *source,
                                 const char *api_version, int json, struct vsg_ce *ce,
                                 struct vsg_error *err)
{
    char id[32], tbuf[VSG_TIME_RFC3339_BUFSZ];
    struct vsg_buf b;
    enum vsg_err rc;

    vsg_buf_init(&b, MAX_PAYLOAD);
    (void)snprintf(id, sizeof id, "%lld", (long long)ev->key);
    if ((rc = vsg_buf_printf(&b, "com.vmware.vsphere.%s.v0", ev->detail ? ev->detail : "")) != VSG_OK) {
        vsg_error_set(err, rc, "event %s: type too long", id);
        goto done;
    }
    if ((rc = vsg_time_format_rfc3339(ev->created, VSG_TIME_NANO, tbuf, sizeof tbuf)) != VSG_OK) {
        vsg_error_set(err, rc, "event %s: createdTime out of range", id);
        goto done;
    }
    if ((rc = vsg_ce_set(ce, "id", id, err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "source", source, err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "type", b.data, err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "time", tbuf, err)) != VSG_OK ||
        (rc = vsg_ce_set(ce, "datacontenttype", json ? "application/json" : "application/xml", err)) != VSG_OK ||
        (rc = vsg_ce_set_ext(ce, "eventclass", vsg_event_class_str(ev->eventclass), err)) != VSG_OK ||
        (rc = vsg_ce_set_ext(ce, "vsphereapiversion", api_version ? api_version : "", err)) != VSG_OK)
        goto done;
    vsg_buf_reset(&b);
    rc = json ? vsg_event_encode_json(ev, &b) : vsg_event_encode_xml(ev, &b);
    if (rc != VSG_OK) {
        vsg_error_set(err, rc, "event %s: payload encoding failed: %s", id, vsg_strerror(rc));
        goto done;
    }
    if ((rc = vsg_ce_set_data(ce, b.data, b.len)) != VSG_OK) vsg_error_set(err, rc, "out of memory");
done:
    vsg_buf_cleanup(&b);
    return rc;
}
