/*
 * filter/filter_value.c - event value trees <-> Lua values (see
 * filter_value.h).
 *
 * Lua -> tree runs inside a protected call: every node is appended to the
 * output tree before it is filled, so a Lua error (a bad value, a memory
 * error) leaves a tree the caller can free. Temporary arrays are Lua
 * userdata, collected like any other garbage.
 */
#include "filter/filter_value.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/mem.h"
#include "base/vtime.h"
#include "lua/json.h"

/* Go's zero time.Time, 0001-01-01T00:00:00Z. */
static const struct vsg_time zero_time = {INT64_C(-62135596800), 0};

/* Flags that belong to the field rather than to its value. */
#define FIELD_FLAGS (VSG_VALUE_F_OMITEMPTY | VSG_VALUE_F_UNKNOWN)

/* ====================================================================
 * Small helpers
 * ==================================================================== */

void vsg_filter_json_name(const char *name, char *out, size_t size)
{
    if (size == 0) return;
    (void)snprintf(out, size, "%s", name != NULL ? name : "");
    if (out[0] >= 'a' && out[0] <= 'z') out[0] = (char)(out[0] - 'a' + 'A');
}

/* [-0, +1, m] Pushes the JSON name of xml name `name`. */
static void push_json_name(lua_State *L, const char *name)
{
    char buf[128];
    size_t n = name != NULL ? strlen(name) : 0;

    if (n == 0 || name[0] < 'a' || name[0] > 'z') {
        lua_pushlstring(L, n ? name : "", n);
        return;
    }
    if (n < sizeof buf) {
        memcpy(buf, name, n);
        buf[0] = (char)(buf[0] - 'a' + 'A');
        lua_pushlstring(L, buf, n);
        return;
    }
    lua_pushfstring(L, "%c%s", name[0] - 'a' + 'A', name + 1);
}

/* 1 when JSON name of xml name `name` equals s[0..n). */
static int json_name_eq(const char *name, const char *s, size_t n)
{
    size_t l = name != NULL ? strlen(name) : 0;
    char c0;

    if (l != n) return 0;
    if (n == 0) return 1;
    c0 = name[0] >= 'a' && name[0] <= 'z' ? (char)(name[0] - 'a' + 'A')
                                          : name[0];
    return c0 == s[0] && memcmp(name + 1, s + 1, n - 1) == 0;
}

enum vsg_err vsg_filter_time_text(const struct vsg_value *v, char *out,
                                  size_t size)
{
    int32_t off = v->u.time.offset, a = off < 0 ? -off : off;
    struct vsg_time local = vsg_time_add_ns(v->u.time.t,
                                            (int64_t)off * VSG_SECOND);
    enum vsg_err rc = vsg_time_format_rfc3339(local, VSG_TIME_NANO, out, size);
    size_t n;

    if (rc != VSG_OK || off == 0) return rc;
    n = strlen(out);
    if (n == 0 || n + 6 >= size) return VSG_ERR_TOOBIG;
    (void)snprintf(out + n - 1, size - (n - 1), "%c%02d:%02d",
                   off < 0 ? '-' : '+', (int)(a / 3600), (int)(a / 60 % 60));
    return VSG_OK;
}

/* The zone offset (seconds east) of an RFC 3339 text that parsed. */
static int32_t zone_offset(const char *s, size_t n)
{
    int32_t off;

    if (n < 6 || s[n - 1] == 'Z' || s[n - 1] == 'z') return 0;
    off = ((s[n - 5] - '0') * 10 + (s[n - 4] - '0')) * 3600 +
          ((s[n - 2] - '0') * 10 + (s[n - 1] - '0')) * 60;
    return s[n - 6] == '-' ? -off : off;
}

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* [-0, +1, m] Pushes the standard base64 text of s[0..n). */
static void push_base64(lua_State *L, const unsigned char *s, size_t n)
{
    luaL_Buffer b;

    luaL_buffinit(L, &b);
    for (size_t i = 0; i < n; i += 3) {
        unsigned long v = (unsigned long)s[i] << 16;
        char q[4];
        if (i + 1 < n) v |= (unsigned long)s[i + 1] << 8;
        if (i + 2 < n) v |= s[i + 2];
        q[0] = b64tab[(v >> 18) & 63];
        q[1] = b64tab[(v >> 12) & 63];
        q[2] = i + 1 < n ? b64tab[(v >> 6) & 63] : '=';
        q[3] = i + 2 < n ? b64tab[v & 63] : '=';
        luaL_addlstring(&b, q, 4);
    }
    luaL_pushresult(&b);
}

/* Decodes standard padded base64 s[0..n) into out (n / 4 * 3 bytes
 * room); returns the length or -1 when it is not valid base64. */
static long base64_decode(const char *s, size_t n, unsigned char *out)
{
    long len = 0;

    if (n % 4 != 0) return -1;
    for (size_t i = 0; i < n; i += 4) {
        unsigned long v = 0;
        int pad = 0;
        for (int j = 0; j < 4; j++) {
            const char *p;
            char c = s[i + (size_t)j];
            if (c == '=' && i + 4 == n && j >= 2) {
                pad++;
                v <<= 6;
                continue;
            }
            if (pad || c == '\0' || (p = strchr(b64tab, c)) == NULL) return -1;
            v = v << 6 | (unsigned long)(p - b64tab);
        }
        out[len++] = (unsigned char)(v >> 16);
        if (pad < 2) out[len++] = (unsigned char)(v >> 8);
        if (pad < 1) out[len++] = (unsigned char)v;
    }
    return len;
}

/* ====================================================================
 * Deep copy
 * ==================================================================== */

enum vsg_err vsg_filter_value_copy(struct vsg_value *dst,
                                   const struct vsg_value *src)
{
    enum vsg_err rc;

    dst->flags = src->flags;
    dst->bits = src->bits;
    switch (src->kind) {
    case VSG_VALUE_NULL:
        return VSG_OK;
    case VSG_VALUE_STRING:
        return vsg_value_set_string(dst, src->u.str.ptr, src->u.str.len);
    case VSG_VALUE_BINARY:
        return vsg_value_set_binary(dst, src->u.str.ptr, src->u.str.len);
    case VSG_VALUE_INT:
    case VSG_VALUE_UINT:
    case VSG_VALUE_BOOL:
    case VSG_VALUE_DOUBLE:
        dst->kind = src->kind;
        dst->u = src->u;
        return VSG_OK;
    case VSG_VALUE_TIME:
        dst->kind = VSG_VALUE_TIME;
        dst->u.time.t = src->u.time.t;
        dst->u.time.offset = src->u.time.offset;
        dst->u.time.text = NULL;
        if (src->u.time.text != NULL &&
            (dst->u.time.text = vsg_strdup(src->u.time.text)) == NULL)
            return VSG_ERR_NOMEM;
        return VSG_OK;
    case VSG_VALUE_MOREF:
        dst->kind = VSG_VALUE_MOREF;
        dst->u.moref.type = vsg_strdup(src->u.moref.type);
        dst->u.moref.value = vsg_strdup(src->u.moref.value);
        return dst->u.moref.type && dst->u.moref.value ? VSG_OK
                                                       : VSG_ERR_NOMEM;
    case VSG_VALUE_OBJECT:
    case VSG_VALUE_ARRAY:
        if (src->kind == VSG_VALUE_OBJECT)
            rc = vsg_value_set_object(dst, src->u.list.type);
        else
            vsg_value_set_array(dst), rc = VSG_OK;
        for (size_t i = 0; rc == VSG_OK && i < src->u.list.len; i++) {
            const struct vsg_value *s = &src->u.list.items[i];
            struct vsg_value *d;
            if ((rc = vsg_value_append(dst, s->name, &d)) == VSG_OK)
                rc = vsg_filter_value_copy(d, s);
        }
        return rc;
    }
    return VSG_ERR_INTERNAL;
}

/* ====================================================================
 * Tree -> Lua
 * ==================================================================== */

void vsg_filter_push_value(lua_State *L, const struct vsg_value *v)
{
    char tb[VSG_FILTER_TIME_BUFSZ];

    luaL_checkstack(L, 4, "event data nested too deeply");
    switch (v->kind) {
    case VSG_VALUE_NULL:
        vsg_lua_pushnull(L);
        return;
    case VSG_VALUE_STRING:
        lua_pushlstring(L, v->u.str.ptr, v->u.str.len);
        return;
    case VSG_VALUE_BINARY:
        push_base64(L, (const unsigned char *)v->u.str.ptr, v->u.str.len);
        return;
    case VSG_VALUE_INT:
        lua_pushinteger(L, (lua_Integer)v->u.i);
        return;
    case VSG_VALUE_UINT:
        if (v->u.u <= (uint64_t)INT64_MAX)
            lua_pushinteger(L, (lua_Integer)v->u.u);
        else
            lua_pushnumber(L, (lua_Number)v->u.u);
        return;
    case VSG_VALUE_BOOL:
        lua_pushboolean(L, v->u.b);
        return;
    case VSG_VALUE_DOUBLE:
        lua_pushnumber(L, (lua_Number)v->u.d);
        return;
    case VSG_VALUE_TIME:
        if (vsg_filter_time_text(v, tb, sizeof tb) != VSG_OK) tb[0] = '\0';
        lua_pushstring(L, tb);
        return;
    case VSG_VALUE_MOREF:
        lua_createtable(L, 0, 2);
        lua_pushstring(L, v->u.moref.type);
        lua_setfield(L, -2, "Type");
        lua_pushstring(L, v->u.moref.value);
        lua_setfield(L, -2, "Value");
        return;
    case VSG_VALUE_OBJECT:
        lua_createtable(L, 0, (int)v->u.list.len);
        for (size_t i = 0; i < v->u.list.len; i++) {
            const struct vsg_value *f = &v->u.list.items[i];
            push_json_name(L, f->name);
            if (f->flags & VSG_VALUE_F_UNKNOWN) {
                /* Two fields with one JSON name: show the first. */
                lua_pushvalue(L, -1);
                if (lua_rawget(L, -3) != LUA_TNIL) {
                    lua_pop(L, 2);
                    continue;
                }
                lua_pop(L, 1);
            }
            vsg_filter_push_value(L, f);
            lua_rawset(L, -3);
        }
        return;
    case VSG_VALUE_ARRAY:
        lua_createtable(L, (int)v->u.list.len, 0);
        for (size_t i = 0; i < v->u.list.len; i++) {
            vsg_filter_push_value(L, &v->u.list.items[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        vsg_lua_json_setarray(L, -1);
        return;
    }
    lua_pushnil(L);
}

/* ====================================================================
 * Unchanged?
 * ==================================================================== */

/* 1 when the string at `idx` is s[0..n). */
static int lstr_is(lua_State *L, int idx, const char *s, size_t n)
{
    size_t l;
    const char *v;

    if (lua_type(L, idx) != LUA_TSTRING) return 0;
    v = lua_tolstring(L, idx, &l);
    return l == n && (n == 0 || memcmp(v, s, n) == 0);
}

/* 1 when field i of object `t` shares its JSON name with an earlier one
 * (only unknown fields can). */
static int shadowed(const struct vsg_value *t, size_t i);
static size_t count_keys(lua_State *L, int idx, size_t stop);

static int same(lua_State *L, int idx, const struct vsg_value *v, int depth)
{
    char tb[VSG_FILTER_TIME_BUFSZ];
    int t = lua_type(L, idx), ok;

    if (depth > VSG_FILTER_MAX_DEPTH || !lua_checkstack(L, 4)) return 0;
    switch (v->kind) {
    case VSG_VALUE_NULL:
        return t == LUA_TNIL || vsg_lua_isnull(L, idx);
    case VSG_VALUE_STRING:
        return lstr_is(L, idx, v->u.str.ptr, v->u.str.len);
    case VSG_VALUE_INT:
        return t == LUA_TNUMBER && lua_isinteger(L, idx) && lua_tointeger(L, idx) == v->u.i;
    case VSG_VALUE_UINT:
        if (v->u.u <= (uint64_t)INT64_MAX)
            return t == LUA_TNUMBER && lua_isinteger(L, idx) &&
                   (uint64_t)lua_tointeger(L, idx) == v->u.u;
        return t == LUA_TNUMBER && !lua_isinteger(L, idx) && lua_tonumber(L, idx) == (lua_Number)v->u.u;
    case VSG_VALUE_BOOL:
        return t == LUA_TBOOLEAN && !lua_toboolean(L, idx) == !v->u.b;
    case VSG_VALUE_DOUBLE: {
        lua_Number d;
        if (t != LUA_TNUMBER || lua_isinteger(L, idx)) return 0;
        d = lua_tonumber(L, idx);
        return (d == v->u.d || (isnan(d) && isnan(v->u.d))) && !signbit(d) == !signbit(v->u.d);
    }
    case VSG_VALUE_TIME:
        return vsg_filter_time_text(v, tb, sizeof tb) == VSG_OK && lstr_is(L, idx, tb, strlen(tb));
    case VSG_VALUE_BINARY:
        if (t != LUA_TSTRING) return 0;
        push_base64(L, (const unsigned char *)v->u.str.ptr, v->u.str.len); /* may raise: m */
        ok = lua_rawequal(L, idx, -1);
        lua_pop(L, 1);
        return ok;
    case VSG_VALUE_MOREF:
        if (t != LUA_TTABLE) return 0;
        lua_pushliteral(L, "Type");
        lua_rawget(L, idx);
        ok = lstr_is(L, -1, v->u.moref.type, strlen(v->u.moref.type));
        lua_pushliteral(L, "Value");
        lua_rawget(L, idx);
        ok = ok && lstr_is(L, -1, v->u.moref.value, strlen(v->u.moref.value));
        lua_pop(L, 2);
        return ok && count_keys(L, idx, 3) == 2;
    case VSG_VALUE_ARRAY:
        if (t != LUA_TTABLE || lua_rawlen(L, idx) != v->u.list.len ||
            count_keys(L, idx, v->u.list.len + 1) != v->u.list.len)
            return 0;
        for (size_t i = 0; i < v->u.list.len; i++) {
            lua_rawgeti(L, idx, (lua_Integer)i + 1);
            ok = same(L, lua_gettop(L), &v->u.list.items[i], depth + 1);
            lua_pop(L, 1);
            if (!ok) return 0;
        }
        return 1;
    case VSG_VALUE_OBJECT: {
        size_t fields = 0;
        if (t != LUA_TTABLE) return 0;
        for (size_t i = 0; i < v->u.list.len; i++) {
            if (shadowed(v, i)) continue;
            fields++;
            push_json_name(L, v->u.list.items[i].name);
            lua_rawget(L, idx);
            ok = same(L, lua_gettop(L), &v->u.list.items[i], depth + 1);
            lua_pop(L, 1);
            if (!ok) return 0;
        }
        return count_keys(L, idx, fields + 1) == fields;
    }
    }
    return 0;
}

int vsg_filter_value_same(lua_State *L, int idx, const struct vsg_value *v)
{
    return same(L, lua_absindex(L, idx), v, 0);
}

/* ====================================================================
 * Lua -> tree
 * ==================================================================== */

/* One step of the path to the value being converted. */
struct seg {
    const char *key;   /* Object key, or NULL for an array index. */
    size_t len;        /* Its length. */
    lua_Integer index; /* Array index (1-based) when key is NULL. */
};

/* Conversion state (on the C stack; nothing in it needs freeing). */
struct conv {
    lua_State *L;       /* The state. */
    int xml;            /* New keys must be XML names. */
    const char *prefix; /* Path prefix in messages ("data"). */
    int arr_mt;         /* Stack index of the array marker metatable. */
    int obj_mt;         /* Stack index of the object marker metatable. */
    int depth;          /* Current nesting. */
    struct seg path[VSG_FILTER_MAX_DEPTH + 1]; /* The path so far. */
};

/* A key of a table being converted generically. */
struct xkey {
    const char *s; /* The key's bytes (a string held by the table). */
    size_t len;    /* Their number. */
};

static void conv_value(struct conv *c, int idx, const struct vsg_value *t,
                       struct vsg_value *out);

/* Raises "<path>: <message>". */
static int conv_error(struct conv *c, const char *fmt, ...) VSG_PRINTF(2, 3);

static int conv_error(struct conv *c, const char *fmt, ...)
{
    char msg[400], path[300];
    size_t n;
    va_list ap;

    n = (size_t)snprintf(path, sizeof path, "%s", c->prefix);
    for (int i = 0; i < c->depth && n < sizeof path; i++) {
        const struct seg *s = &c->path[i];
        if (s->key != NULL)
            n += (size_t)snprintf(path + n, sizeof path - n, ".%.*s",
                                  (int)(s->len > 60 ? 60 : s->len), s->key);
        else
            n += (size_t)snprintf(path + n, sizeof path - n,
                                  "[" LUA_INTEGER_FMT "]",
                                  (LUAI_UACINT)s->index);
    }
    va_start(ap, fmt);
    (void)vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return luaL_error(c->L, "%s: %s", path, msg);
}

static void conv_nomem(struct conv *c)
{
    (void)conv_error(c, "out of memory");
}

static void push_seg(struct conv *c, const char *key, size_t len,
                     lua_Integer index)
{
    if (c->depth >= VSG_FILTER_MAX_DEPTH)
        (void)conv_error(c, "nested more than %d levels deep",
                         VSG_FILTER_MAX_DEPTH);
    c->path[c->depth].key = key;
    c->path[c->depth].len = len;
    c->path[c->depth].index = index;
    c->depth++;
}

/* Appends a child (named `name`, NULL for array items) to `list`. */
static struct vsg_value *append(struct conv *c, struct vsg_value *list,
                                const char *name)
{
    struct vsg_value *slot = NULL;

    if (vsg_value_append(list, name, &slot) != VSG_OK) conv_nomem(c);
    return slot;
}

/* 0 unmarked, 1 marked array, 2 marked object. */
static int marker_of(struct conv *c, int idx)
{
    lua_State *L = c->L;
    int m = 0;

    if (!lua_getmetatable(L, idx)) return 0;
    if (lua_rawequal(L, -1, c->arr_mt)) m = 1;
    else if (lua_rawequal(L, -1, c->obj_mt)) m = 2;
    lua_pop(L, 1);
    return m;
}

/* Number of keys of the table at `idx`, counting up to `stop` (0: all). */
static size_t count_keys(lua_State *L, int idx, size_t stop)
{
    size_t n = 0;

    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (++n == stop) {
            lua_pop(L, 1);
            break;
        }
    }
    return n;
}

/* 1 when the fields Type and Value of the table at `idx` are strings
 * (the caller checked that it has exactly two keys). */
static int moref_shaped(lua_State *L, int idx)
{
    int ok;

    lua_pushliteral(L, "Type");
    ok = lua_rawget(L, idx) == LUA_TSTRING;
    lua_pushliteral(L, "Value");
    ok = lua_rawget(L, idx) == LUA_TSTRING && ok;
    lua_pop(L, 2);
    return ok;
}

/* Sets MOREF from the table at `idx` (moref_shaped() said yes). */
static void set_moref(struct conv *c, int idx, struct vsg_value *out)
{
    lua_State *L = c->L;
    size_t tl, vl;
    const char *ts, *vs;

    lua_pushliteral(L, "Type");
    lua_rawget(L, idx);
    lua_pushliteral(L, "Value");
    lua_rawget(L, idx);
    ts = lua_tolstring(L, -2, &tl);
    vs = lua_tolstring(L, -1, &vl);
    out->kind = VSG_VALUE_MOREF;
    out->u.moref.type = vsg_strndup(ts, tl);
    out->u.moref.value = vsg_strndup(vs, vl);
    lua_pop(L, 2);
    if (out->u.moref.type == NULL || out->u.moref.value == NULL) conv_nomem(c);
}

static void set_string(struct conv *c, struct vsg_value *out, const char *s,
                       size_t n)
{
    if (vsg_value_set_string(out, s, n) != VSG_OK) conv_nomem(c);
}

static void copy_tmpl(struct conv *c, struct vsg_value *out,
                      const struct vsg_value *t)
{
    if (vsg_filter_value_copy(out, t) != VSG_OK) conv_nomem(c);
}

/* The Go zero value of the template's kind (see the header). */
static void set_zero(struct conv *c, const struct vsg_value *t,
                     struct vsg_value *out)
{
    out->flags = t->flags & FIELD_FLAGS;
    switch (t->kind) {
    case VSG_VALUE_STRING:
        set_string(c, out, "", 0);
        break;
    case VSG_VALUE_INT:
    case VSG_VALUE_UINT:
    case VSG_VALUE_BOOL:
    case VSG_VALUE_DOUBLE:
        out->kind = t->kind;
        out->bits = t->bits;
        memset(&out->u, 0, sizeof out->u);
        break;
    case VSG_VALUE_TIME:
        out->kind = VSG_VALUE_TIME;
        out->u.time.t = zero_time;
        out->u.time.offset = 0;
        out->u.time.text = NULL;
        break;
    case VSG_VALUE_NULL:
        out->flags = t->flags;
        break;
    case VSG_VALUE_BINARY:
        /* A nil []byte: encoding/xml writes an empty element unless the
         * field has omitempty. */
        if (!(t->flags & VSG_VALUE_F_OMITEMPTY))
            out->flags |= VSG_VALUE_F_XMLEMPTY;
        break;
    default:
        break;
    }
}

/* 1 when s[0..n) is an XML name as encoding/xml would need it. */
static int xml_name_ok(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') ||
                    (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
            return 0;
    }
    return 1;
}

static int cmp_xkey(const void *a, const void *b)
{
    const struct xkey *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->s, y->s, n);

    if (r != 0) return r;
    return x->len < y->len ? -1 : x->len > y->len;
}

/* Compares keys as JSON names (first ASCII letter upper-cased). */
static int cmp_xkey_upper(const void *a, const void *b)
{
    const struct xkey *x = a, *y = b;
    unsigned char cx, cy;

    if (x->len == 0 || y->len == 0) return x->len == 0 ? -(y->len != 0) : 1;
    cx = (unsigned char)x->s[0];
    cy = (unsigned char)y->s[0];
    if (cx >= 'a' && cx <= 'z') cx = (unsigned char)(cx - 'a' + 'A');
    if (cy >= 'a' && cy <= 'z') cy = (unsigned char)(cy - 'a' + 'A');
    if (cx != cy) return cx < cy ? -1 : 1;
    {
        struct xkey x1 = {x->s + 1, x->len - 1}, y1 = {y->s + 1, y->len - 1};
        return cmp_xkey(&x1, &y1);
    }
}

/*
 * Appends to object `out` the keys of the table at `idx` that template
 * object `t` (NULL: none) has no field for, sorted, converted generically.
 */
static void conv_extras(struct conv *c, int idx, const struct vsg_value *t,
                        struct vsg_value *out)
{
    lua_State *L = c->L;
    size_t n = 0, cap = 0;
    struct xkey *keys = NULL;
    int ud;

    /* Collect: a userdata holds the array, so an error frees it. */
    cap = count_keys(L, idx, 0);
    keys = lua_newuserdatauv(L, cap * sizeof *keys + 1, 0);
    ud = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        size_t len;
        const char *k;
        int known = 0;

        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            (void)conv_error(c, "keys must be strings (found a %s key)",
                             luaL_typename(L, -1));
        k = lua_tolstring(L, -1, &len);
        for (size_t i = 0; t != NULL && i < t->u.list.len; i++) {
            const char *fname = t->u.list.items[i].name;
            struct xkey a = {k, len}, b;
            char jn[256];
            if (json_name_eq(fname, k, len)) {
                known = 1;
                break;
            }
            vsg_filter_json_name(fname, jn, sizeof jn);
            b.s = jn;
            b.len = strlen(jn);
            if (cmp_xkey_upper(&a, &b) == 0) {
                push_seg(c, k, len, 0);
                (void)conv_error(c, "this key and %s would be sent under "
                                    "the same JSON name", jn);
            }
        }
        if (known) continue;
        if (c->xml && !xml_name_ok(k, len)) {
            push_seg(c, k, len, 0);
            (void)conv_error(c, "not a valid XML element name (the payload "
                                "is application/xml)");
        }
        if (n < cap) {
            keys[n].s = k;
            keys[n].len = len;
            n++;
        }
    }
    if (n > 1) {
        qsort(keys, n, sizeof *keys, cmp_xkey_upper);
        for (size_t i = 1; i < n; i++)
            if (cmp_xkey_upper(&keys[i - 1], &keys[i]) == 0) {
                push_seg(c, keys[i].s, keys[i].len, 0);
                (void)conv_error(c, "keys '%.*s' and '%.*s' would be sent "
                                    "under the same JSON name",
                                 (int)keys[i - 1].len, keys[i - 1].s,
                                 (int)keys[i].len, keys[i].s);
            }
        qsort(keys, n, sizeof *keys, cmp_xkey);
    }
    for (size_t i = 0; i < n; i++) {
        char small[128], *name = small;
        struct vsg_value *slot;

        if (keys[i].len >= sizeof small) {
            name = lua_newuserdatauv(L, keys[i].len + 1, 0);
        }
        memcpy(name, keys[i].s, keys[i].len);
        name[keys[i].len] = '\0';
        if (name[0] >= 'A' && name[0] <= 'Z')
            name[0] = (char)(name[0] - 'A' + 'a');
        slot = append(c, out, name);
        slot->flags = VSG_VALUE_F_UNKNOWN;
        if (name != small) lua_pop(L, 1);
        push_seg(c, keys[i].s, keys[i].len, 0);
        lua_pushlstring(L, keys[i].s, keys[i].len);
        lua_rawget(L, idx);
        conv_value(c, lua_gettop(L), NULL, slot);
        lua_pop(L, 1);
        c->depth--;
    }
    lua_remove(L, ud);
}

/* 1 when an earlier field of object `t` has the JSON name of field i. */
static int shadowed(const struct vsg_value *t, size_t i)
{
    char jn[256];
    const char *name = t->u.list.items[i].name;

    if (!(t->u.list.items[i].flags & VSG_VALUE_F_UNKNOWN)) return 0;
    vsg_filter_json_name(name, jn, sizeof jn);
    for (size_t j = 0; j < i; j++)
        if (json_name_eq(t->u.list.items[j].name, jn, strlen(jn))) return 1;
    return 0;
}

/* Object conversion with template object `t`. */
static void conv_object(struct conv *c, int idx, const struct vsg_value *t,
                        struct vsg_value *out)
{
    lua_State *L = c->L;
    size_t present = 0, count = 0;

    if (vsg_value_set_object(out, t->u.list.type) != VSG_OK) conv_nomem(c);
    for (size_t i = 0; i < t->u.list.len; i++) {
        const struct vsg_value *f = &t->u.list.items[i];
        struct vsg_value *slot = append(c, out, f->name);
        size_t kl;
        const char *k;

        if (shadowed(t, i)) {
            /* The script could not see it (see the header): keep it. */
            copy_tmpl(c, slot, f);
            continue;
        }
        push_json_name(L, f->name);
        k = lua_tolstring(L, -1, &kl);
        lua_pushvalue(L, -1);
        if (lua_rawget(L, idx) != LUA_TNIL) present++;
        push_seg(c, k, kl, 0);
        conv_value(c, lua_gettop(L), f, slot);
        c->depth--;
        lua_pop(L, 2);
    }
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        count++;
    }
    if (count > present) conv_extras(c, idx, t, out);
}

/* Array conversion; item templates from `t` (an ARRAY, or NULL). */
static void conv_array(struct conv *c, int idx, const struct vsg_value *t,
                       struct vsg_value *out)
{
    lua_State *L = c->L;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);

    vsg_value_set_array(out);
    for (lua_Integer i = 1; i <= n; i++) {
        const struct vsg_value *it = NULL;
        struct vsg_value *slot;

        if (t != NULL && t->u.list.len > 0)
            it = (size_t)i <= t->u.list.len ? &t->u.list.items[i - 1]
                                           : &t->u.list.items[0];
        slot = append(c, out, NULL);
        push_seg(c, NULL, 0, i);
        lua_rawgeti(L, idx, i);
        conv_value(c, lua_gettop(L), it, slot);
        lua_pop(L, 1);
        c->depth--;
    }
}

/* 1 when the table at `idx` holds exactly the keys 1..rawlen (> 0). */
static int is_sequence(lua_State *L, int idx)
{
    size_t n = lua_rawlen(L, idx);

    return n > 0 && count_keys(L, idx, n + 1) == n;
}

/* A table without a usable template. */
static void conv_table_generic(struct conv *c, int idx, struct vsg_value *out)
{
    lua_State *L = c->L;
    int m = marker_of(c, idx);

    if (m != 2 && count_keys(L, idx, 3) == 2 && moref_shaped(L, idx)) {
        set_moref(c, idx, out);
        return;
    }
    if (m == 1 || (m == 0 && is_sequence(L, idx))) {
        conv_array(c, idx, NULL, out);
        return;
    }
    if (vsg_value_set_object(out, NULL) != VSG_OK) conv_nomem(c);
    conv_extras(c, idx, NULL, out);
}

static void conv_number(struct conv *c, int idx, const struct vsg_value *t,
                        struct vsg_value *out)
{
    lua_State *L = c->L;
    enum vsg_value_kind tk = t != NULL ? t->kind : VSG_VALUE_NULL;

    if (lua_isinteger(L, idx)) {
        lua_Integer i = lua_tointeger(L, idx);
        if (tk == VSG_VALUE_INT) {
            out->kind = VSG_VALUE_INT;
            out->bits = t->bits;
            out->u.i = (int64_t)i;
        } else if (tk == VSG_VALUE_UINT && i >= 0) {
            out->kind = VSG_VALUE_UINT;
            out->bits = t->bits;
            out->u.u = (uint64_t)i;
        } else if (tk == VSG_VALUE_DOUBLE) {
            out->kind = VSG_VALUE_DOUBLE;
            out->bits = t->bits;
            out->u.d = (double)i;
        } else {
            out->kind = VSG_VALUE_INT;
            out->bits = 64;
            out->u.i = (int64_t)i;
        }
    } else {
        lua_Number d = lua_tonumber(L, idx);
        lua_Integer li;
        if (tk == VSG_VALUE_DOUBLE &&
            (d == t->u.d || (isnan(d) && isnan(t->u.d))) &&
            !signbit(d) == !signbit(t->u.d)) {
            copy_tmpl(c, out, t);
        } else if (tk == VSG_VALUE_UINT && d == (lua_Number)t->u.u) {
            copy_tmpl(c, out, t);
        } else if (!isfinite(d)) {
            (void)conv_error(c, "%s cannot be sent (JSON has no such number)",
                             isnan(d) ? "NaN" : "an infinite number");
        } else if (tk == VSG_VALUE_DOUBLE) {
            out->kind = VSG_VALUE_DOUBLE;
            out->bits = t->bits;
            out->u.d = d;
        } else if (tk == VSG_VALUE_INT && floor(d) == d &&
                   lua_numbertointeger(d, &li)) {
            out->kind = VSG_VALUE_INT;
            out->bits = t->bits;
            out->u.i = (int64_t)li;
        } else if (tk == VSG_VALUE_UINT && floor(d) == d && d >= 0 &&
                   d < 18446744073709551616.0) {
            out->kind = VSG_VALUE_UINT;
            out->bits = t->bits;
            out->u.u = (uint64_t)d;
        } else {
            out->kind = VSG_VALUE_DOUBLE;
            out->bits = 64;
            out->u.d = d;
        }
    }
    if (t != NULL && out->kind == tk) out->flags |= t->flags & FIELD_FLAGS;
}

static void conv_string(struct conv *c, int idx, const struct vsg_value *t,
                        struct vsg_value *out)
{
    lua_State *L = c->L;
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    enum vsg_value_kind tk = t != NULL ? t->kind : VSG_VALUE_NULL;

    if (tk == VSG_VALUE_TIME) {
        char tb[VSG_FILTER_TIME_BUFSZ];
        struct vsg_time tm;
        if (vsg_filter_time_text(t, tb, sizeof tb) == VSG_OK &&
            strlen(tb) == n && memcmp(tb, s, n) == 0) {
            copy_tmpl(c, out, t);
            return;
        }
        if (n < sizeof tb && strlen(s) == n &&
            vsg_time_parse_rfc3339(s, &tm) == VSG_OK) {
            out->kind = VSG_VALUE_TIME;
            out->u.time.t = tm;
            out->u.time.offset = zone_offset(s, n);
            out->u.time.text = NULL;
            out->flags |= t->flags & FIELD_FLAGS;
            return;
        }
    } else if (tk == VSG_VALUE_BINARY) {
        unsigned char *bytes;
        long len;
        lua_pushvalue(L, idx);
        vsg_filter_push_value(L, t);
        if (lua_rawequal(L, -1, -2)) {
            lua_pop(L, 2);
            copy_tmpl(c, out, t);
            return;
        }
        lua_pop(L, 2);
        bytes = lua_newuserdatauv(L, n / 4 * 3 + 1, 0);
        len = base64_decode(s, n, bytes);
        if (len >= 0) {
            if (vsg_value_set_binary(out, (const char *)bytes, (size_t)len) !=
                VSG_OK)
                conv_nomem(c);
            out->flags |= t->flags & FIELD_FLAGS;
            lua_pop(L, 1);
            return;
        }
        lua_pop(L, 1);
    }
    set_string(c, out, s, n);
    if (tk == VSG_VALUE_STRING) out->flags |= t->flags & FIELD_FLAGS;
}

static void conv_value(struct conv *c, int idx, const struct vsg_value *t,
                       struct vsg_value *out)
{
    lua_State *L = c->L;
    enum vsg_value_kind tk = t != NULL ? t->kind : VSG_VALUE_NULL;

    luaL_checkstack(L, 8, "event data nested too deeply");
    /* Field flags of the template stay with the field by default; the
     * converters add the value-kind-specific ones. */
    out->flags = t != NULL ? t->flags & VSG_VALUE_F_UNKNOWN : out->flags;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        if (t != NULL) set_zero(c, t, out);
        return;
    case LUA_TLIGHTUSERDATA:
        if (!vsg_lua_isnull(L, idx)) break;
        if (t != NULL) set_zero(c, t, out);
        return;
    case LUA_TBOOLEAN:
        out->kind = VSG_VALUE_BOOL;
        out->u.b = lua_toboolean(L, idx);
        if (tk == VSG_VALUE_BOOL) out->flags |= t->flags & FIELD_FLAGS;
        return;
    case LUA_TNUMBER:
        conv_number(c, idx, t, out);
        return;
    case LUA_TSTRING:
        conv_string(c, idx, t, out);
        return;
    case LUA_TTABLE: {
        int m = marker_of(c, idx);
        if (tk == VSG_VALUE_MOREF && m != 2 && count_keys(L, idx, 3) == 2 &&
            moref_shaped(L, idx)) {
            set_moref(c, idx, out);
            out->flags |= t->flags & FIELD_FLAGS;
            return;
        }
        if (tk == VSG_VALUE_OBJECT && m != 1 &&
            (m == 2 || lua_rawlen(L, idx) == 0)) {
            conv_object(c, idx, t, out);
            out->flags |= t->flags & FIELD_FLAGS;
            return;
        }
        if (tk == VSG_VALUE_ARRAY && m != 2 &&
            (m == 1 || lua_rawlen(L, idx) == 0 || is_sequence(L, idx)) &&
            (lua_rawlen(L, idx) > 0 || count_keys(L, idx, 1) == 0)) {
            conv_array(c, idx, t, out);
            out->flags |= t->flags & FIELD_FLAGS;
            return;
        }
        conv_table_generic(c, idx, out);
        return;
    }
    default:
        break;
    }
    (void)conv_error(c, "a %s value cannot be sent", luaL_typename(L, idx));
}

void vsg_filter_to_value(lua_State *L, int idx, const struct vsg_value *tmpl,
                         struct vsg_value *out, int xml, const char *path)
{
    struct conv c;
    int top;

    idx = lua_absindex(L, idx);
    top = lua_gettop(L);
    memset(&c, 0, sizeof c);
    c.L = L;
    c.xml = xml;
    c.prefix = path != NULL ? path : "data";
    /* The marker metatables, taken from freshly marked tables. */
    luaL_checkstack(L, 10, "event data nested too deeply");
    lua_newtable(L);
    vsg_lua_json_setarray(L, -1);
    if (!lua_getmetatable(L, -1)) lua_pushnil(L);
    lua_replace(L, -2);
    c.arr_mt = lua_gettop(L);
    lua_newtable(L);
    vsg_lua_json_setobject(L, -1);
    if (!lua_getmetatable(L, -1)) lua_pushnil(L);
    lua_replace(L, -2);
    c.obj_mt = lua_gettop(L);
    conv_value(&c, idx, tmpl, out);
    lua_settop(L, top);
}
