/*
 * lua_json.c - vsg.json and vsg.null: JSON <-> Lua values (see json.h).
 *
 * Decoding parses with cJSON, then walks the tree into Lua values. cJSON
 * keeps numbers as doubles only, so the walk also scans the text for the
 * number tokens (they come in the same order as the tree's numbers) and
 * reads integers from their digits: 2^53+1 stays exact. Encoding writes
 * straight into a struct vsg_buf: no intermediate tree, keys sorted,
 * integers exact, and the encoder never raises, so it may hold C memory.
 *
 * vsg.json:
 *   encode(value) -> string           raises on values JSON cannot hold
 *   decode(text)  -> value | nil, err arrays marked, integers exact
 *   array([t]) / object([t]) -> t     set the marker (new table if none)
 *   null                              the same value as vsg.null
 * A marked table reports its kind: getmetatable(t) == "vsg.json.array".
 * JSON texts longer than the state's memory limit / 16 are refused by
 * decode (the cJSON tree lives outside the cap while it exists, and can
 * be some 20 times the text). Both functions charge the call's budget one
 * instruction per JSON_BYTES_PER_INSTRUCTION bytes: decode before it
 * starts, encode (whose output is bounded by the memory limit) when it
 * ends, whether it failed or not.
 */
#include "lua/json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "base/mem.h"
#include "lua/host.h"
#include "lua/internal.h"

/* Registry keys and the null sentinel: the addresses of these. */
static const char key_array_mt = 'a';  /* The array marker metatable. */
static const char key_object_mt = 'o'; /* The object marker metatable. */
static const char key_box_mt = 'b';    /* Metatable of struct box. */
static const char null_sentinel = 'n'; /* vsg.null is its address. */

/* vsg.json.encode/decode charge one instruction per this many bytes of
 * JSON text to the call's budget. */
#define JSON_BYTES_PER_INSTRUCTION 8
/* ...and this many per value read or made (50-200 ns each), checked
 * every JSON_VALUES_CHECK values, so a big value is stopped midway. */
#define JSON_VALUE_COST 16
#define JSON_VALUES_CHECK 256

/* Path segments shown in encode errors. */
#define PATH_SHOWN 16

/* C memory a Lua function holds while it may raise: freed by __gc. */
struct box {
    struct vsg_buf buf; /* Encode output. */
    cJSON *root;        /* Decode tree, or NULL. */
};

/* ====================================================================
 * null and markers
 * ==================================================================== */

void vsg_lua_pushnull(lua_State *L)
{
    lua_pushlightuserdata(L, (void *)&null_sentinel);
}

int vsg_lua_isnull(lua_State *L, int idx)
{
    return lua_touserdata(L, idx) == (const void *)&null_sentinel &&
           lua_type(L, idx) == LUA_TLIGHTUSERDATA;
}

/* [-0, +0, -] Sets the marker metatable stored under `key`. */
static void set_marker(lua_State *L, int idx, const char *key)
{
    idx = lua_absindex(L, idx);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, key) != LUA_TTABLE) {
        lua_pop(L, 1);
        return;
    }
    lua_setmetatable(L, idx);
}

void vsg_lua_json_setarray(lua_State *L, int idx)
{
    set_marker(L, idx, &key_array_mt);
}

void vsg_lua_json_setobject(lua_State *L, int idx)
{
    set_marker(L, idx, &key_object_mt);
}

/* [-0, +0, -] Which marker the table at `idx` carries: 0 none, 1 array,
 * 2 object. Needs 2 free stack slots. */
static int marker_of(lua_State *L, int idx)
{
    int m = 0;

    if (!lua_getmetatable(L, idx)) return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_array_mt);
    if (lua_rawequal(L, -1, -2)) {
        m = 1;
    } else {
        lua_pop(L, 1);
        lua_rawgetp(L, LUA_REGISTRYINDEX, &key_object_mt);
        if (lua_rawequal(L, -1, -2)) m = 2;
    }
    lua_pop(L, 2);
    return m;
}

/* ====================================================================
 * Encoding
 * ==================================================================== */

/* One step of the path to the value being encoded. */
struct seg {
    const char *key;     /* Object key, or NULL for an array index. */
    size_t len;          /* Length of key. */
    lua_Integer index;   /* Array index (1-based) when key is NULL. */
};

/* Encoder state. */
struct enc {
    lua_State *L;              /* The state whose values are read. */
    struct vsg_buf *out;       /* Where the text goes. */
    int lenient;               /* Write what JSON cannot hold as strings
                                  instead of failing (for logs). */
    int log_fields;            /* Top level is log fields: force an object
                                  and rename reserved keys. */
    int depth;                 /* Current nesting. */
    unsigned values;           /* Values written, for the budget. */
    enum vsg_err code;         /* The failure, VSG_OK while none. */
    char msg[256];             /* Its description with the path. */
    struct seg path[PATH_SHOWN]; /* The first steps of the current path. */
};

/* An object key while sorting. */
struct kent {
    const char *k; /* Key bytes (a Lua string, or digits in a C array). */
    size_t len;    /* Their number. */
    int vslot;     /* Stack index of the value. */
};

/* Records a failure with the current path; returns -1. */
static int fail(struct enc *e, enum vsg_err code, const char *fmt, ...)
    VSG_PRINTF(3, 4);

static int fail(struct enc *e, enum vsg_err code, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    int shown = e->depth < PATH_SHOWN ? e->depth : PATH_SHOWN;

    va_start(ap, fmt);
    (void)vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    if (e->depth == 0) return -1;
    n = strlen(e->msg);
    n += (size_t)snprintf(e->msg + n, sizeof e->msg - n, " (at ");
    for (int i = 0; i < shown && n < sizeof e->msg; i++) {
        const struct seg *s = &e->path[i];

        if (s->key != NULL)
            n += (size_t)snprintf(e->msg + n, sizeof e->msg - n, ".%.*s",
                                  (int)(s->len > 40 ? 40 : s->len), s->key);
        else
            n += (size_t)snprintf(e->msg + n, sizeof e->msg - n,
                                  "[" LUA_INTEGER_FMT "]",
                                  (LUAI_UACINT)s->index);
    }
    if (n < sizeof e->msg)
        (void)snprintf(e->msg + n, sizeof e->msg - n, "%s)",
                       e->depth > PATH_SHOWN ? "..." : "");
    return -1;
}

/* Appends n bytes. */
static int put(struct enc *e, const char *s, size_t n)
{
    enum vsg_err rc = vsg_buf_append(e->out, s, n);

    if (rc == VSG_OK) return 0;
    if (rc == VSG_ERR_TOOBIG)
        return fail(e, rc, "JSON text longer than %zu bytes", e->out->max);
    return fail(e, rc, "out of memory");
}

/* Appends a JSON string. */
static int put_string(struct enc *e, const char *s, size_t n)
{
    enum vsg_err rc = vsg_buf_append_json_stringn(e->out, s, n);

    if (rc == VSG_OK) return 0;
    if (rc == VSG_ERR_TOOBIG)
        return fail(e, rc, "JSON text longer than %zu bytes", e->out->max);
    return fail(e, rc, "out of memory");
}

/* Writes a float so that it reads back equal and stays a float. */
static int put_float(struct enc *e, lua_Number x)
{
    char b[64];
    size_t n;

    if (isnan(x) || isinf(x)) {
        const char *name = isnan(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity";

        if (e->lenient) return put_string(e, name, strlen(name));
        return fail(e, VSG_ERR_INVAL, "cannot encode %s", name);
    }
    (void)snprintf(b, sizeof b, "%.14g", (double)x);
    if (strtod(b, NULL) != (double)x)
        (void)snprintf(b, sizeof b, "%.17g", (double)x);
    n = strlen(b);
    if (b[strspn(b, "-0123456789")] == '\0') {
        memcpy(b + n, ".0", 3);
        n += 2;
    }
    return put(e, b, n);
}

static int encode_value(struct enc *e, int idx);

/* Byte order of keys, shorter first on a common prefix. */
static int cmp_keys(const void *a, const void *b)
{
    const struct kent *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->k, y->k, n);

    if (c != 0) return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* Nonzero for the keys a log line writes itself. */
static int reserved_log_key(const char *k, size_t n)
{
    static const char *const names[] = {"level", "ts", "logger", "caller",
                                        "msg", NULL};

    for (const char *const *p = names; *p != NULL; p++)
        if (strlen(*p) == n && memcmp(*p, k, n) == 0) return 1;
    return 0;
}

/* [-0, +0, -] Writes the object whose n key/value pairs sit on the stack
 * from `first` on (key, value, key, value, ...). 0 or -1 (e has why). */
static int put_object(struct enc *e, int first, size_t n)
{
    lua_State *L = e->L;
    struct kent *ents = NULL;
    char (*nums)[24] = NULL;
    int rc = -1;
    size_t j;

    if (n > 0) {
        ents = vsg_calloc(n, sizeof *ents);
        if (ents == NULL) return fail(e, VSG_ERR_NOMEM, "out of memory");
    }
    for (j = 0; j < n; j++) {
        int kslot = first + 2 * (int)j;

        if (lua_type(L, kslot) == LUA_TSTRING) {
            ents[j].k = lua_tolstring(L, kslot, &ents[j].len);
        } else {
            if (nums == NULL) {
                nums = vsg_calloc(n, sizeof *nums);
                if (nums == NULL) {
                    fail(e, VSG_ERR_NOMEM, "out of memory");
                    goto done;
                }
            }
            (void)snprintf(nums[j], sizeof nums[j], LUA_INTEGER_FMT,
                           (LUAI_UACINT)lua_tointeger(L, kslot));
            ents[j].k = nums[j];
            ents[j].len = strlen(nums[j]);
        }
        ents[j].vslot = kslot + 1;
    }
    if (n > 1) qsort(ents, n, sizeof *ents, cmp_keys);
    if (put(e, "{", 1) != 0) goto done;
    for (j = 0; j < n; j++) {
        const struct kent *k = &ents[j];

        if (j > 0 && cmp_keys(&ents[j - 1], k) == 0) {
            if (e->lenient) continue;
            fail(e, VSG_ERR_INVAL, "duplicate key \"%.*s\" (integer and "
                 "string keys collide)", (int)(k->len > 40 ? 40 : k->len),
                 k->k);
            goto done;
        }
        if (j > 0 && put(e, ",", 1) != 0) goto done;
        if (e->log_fields && e->depth == 0 && reserved_log_key(k->k, k->len)) {
            char tmp[16];

            tmp[0] = '_';
            memcpy(tmp + 1, k->k, k->len);
            if (put_string(e, tmp, k->len + 1) != 0) goto done;
        } else if (put_string(e, k->k, k->len) != 0) {
            goto done;
        }
        if (put(e, ":", 1) != 0) goto done;
        if (e->depth < PATH_SHOWN) {
            e->path[e->depth].key = k->k;
            e->path[e->depth].len = k->len;
        }
        e->depth++;
        rc = encode_value(e, k->vslot);
        e->depth--;
        if (rc != 0) goto done;
        rc = -1;
    }
    rc = put(e, "}", 1);
done:
    vsg_free(nums);
    vsg_free(ents);
    return rc;
}

/* [-0, +0, -] Writes the table at `idx` as an array or an object (see
 * json.h). Never raises: lua_next, raw reads and lua_checkstack only. */
static int encode_table(struct enc *e, int idx)
{
    lua_State *L = e->L;
    int top, marker, rc;
    size_t n = 0;
    int allint = 1;
    lua_Integer kmin = 0, kmax = 0;

    if (e->depth >= VSG_LUA_JSON_MAX_DEPTH) {
        if (e->lenient) return put_string(e, "<too deep>", 10);
        return fail(e, VSG_ERR_INVAL, "nested too deeply (or a cycle)");
    }
    if (!lua_checkstack(L, 6))
        return fail(e, VSG_ERR_NOMEM, "Lua stack overflow");
    idx = lua_absindex(L, idx);
    if (!e->lenient) vsg__lua_complete_lazy(L, idx); /* A filter's event: all of it. */
    marker = marker_of(L, idx);
    top = lua_gettop(L);

    /* Collect the pairs on the stack: key, value, key, value, ... */
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int kt = lua_type(L, -2);

        if (kt == LUA_TNUMBER && lua_isinteger(L, -2)) {
            lua_Integer k = lua_tointeger(L, -2);

            if (n == 0 || k < kmin) kmin = k;
            if (n == 0 || k > kmax) kmax = k;
        } else if (kt == LUA_TSTRING) {
            allint = 0;
        } else if (e->lenient) {
            lua_pop(L, 1);
            continue;
        } else {
            const char *tn = lua_typename(L, kt);

            lua_settop(L, top);
            return fail(e, VSG_ERR_INVAL, "cannot encode a table key of "
                        "type %s", kt == LUA_TNUMBER ? "float" : tn);
        }
        n++;
        if (!lua_checkstack(L, 3)) {
            lua_settop(L, top);
            return fail(e, VSG_ERR_NOMEM, "table too large to encode");
        }
        lua_pushvalue(L, -2);
    }

    if (e->log_fields && e->depth == 0) marker = 2;
    if (marker == 2 ||
        !(n > 0 && allint && kmin >= 1 && (size_t)kmax == n)) {
        if (marker == 1 && n > 0) {
            lua_settop(L, top);
            return fail(e, VSG_ERR_INVAL,
                        "array (vsg.json.array) has keys other than 1..n");
        }
        if (marker == 1) {
            lua_settop(L, top);
            return put(e, "[]", 2);
        }
        rc = put_object(e, top + 1, n);
        lua_settop(L, top);
        return rc;
    }

    /* An array: values in index order. */
    lua_settop(L, top);
    if (put(e, "[", 1) != 0) return -1;
    for (lua_Integer i = 1; i <= kmax; i++) {
        if (i > 1 && put(e, ",", 1) != 0) return -1;
        lua_rawgeti(L, idx, i);
        if (e->depth < PATH_SHOWN) {
            e->path[e->depth].key = NULL;
            e->path[e->depth].index = i;
        }
        e->depth++;
        rc = encode_value(e, -1);
        e->depth--;
        lua_pop(L, 1);
        if (rc != 0) return -1;
    }
    return put(e, "]", 1);
}

/* [-0, +0, -] Writes the value at `idx`. 0 or -1 (e has why). */
static int encode_value(struct enc *e, int idx)
{
    lua_State *L = e->L;
    int t = lua_type(L, idx);

    if (++e->values % JSON_VALUES_CHECK == 0 &&
        vsg__lua_over(L, JSON_VALUES_CHECK * JSON_VALUE_COST))
        return fail(e, VSG_ERR_LIMIT, "limit exceeded");
    switch (t) {
    case LUA_TNIL:
        return put(e, "null", 4);
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? put(e, "true", 4) : put(e, "false", 5);
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            char b[32];
            int n = snprintf(b, sizeof b, LUA_INTEGER_FMT,
                             (LUAI_UACINT)lua_tointeger(L, idx));

            return put(e, b, (size_t)n);
        }
        return put_float(e, lua_tonumber(L, idx));
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);

        return put_string(e, s, n);
    }
    case LUA_TTABLE:
        return encode_table(e, idx);
    case LUA_TLIGHTUSERDATA:
        if (vsg_lua_isnull(L, idx)) return put(e, "null", 4);
        break;
    default:
        break;
    }
    if (e->lenient) {
        char b[32];
        int n = snprintf(b, sizeof b, "<%s>", lua_typename(L, t));

        return put_string(e, b, (size_t)n);
    }
    return fail(e, VSG_ERR_INVAL, "cannot encode a %s value",
                lua_typename(L, t));
}

enum vsg_err vsg_lua_json_encode(lua_State *L, int idx, struct vsg_buf *out,
                                 struct vsg_error *err)
{
    struct enc e;

    memset(&e, 0, sizeof e);
    e.L = L;
    e.out = out;
    if (encode_value(&e, lua_absindex(L, idx)) != 0)
        return vsg_error_set(err, e.code, "%s", e.msg);
    return VSG_OK;
}

enum vsg_err vsg__lua_json_encode_log_fields(lua_State *L, int idx,
                                             struct vsg_buf *out)
{
    struct enc e;

    if (lua_type(L, idx) != LUA_TTABLE) return VSG_ERR_INVAL;
    memset(&e, 0, sizeof e);
    e.L = L;
    e.out = out;
    e.lenient = 1;
    e.log_fields = 1;
    return encode_table(&e, idx) == 0 ? VSG_OK : e.code;
}

/* ====================================================================
 * Decoding
 * ==================================================================== */

/* Decoder state. */
struct dec {
    lua_State *L;     /* Where values are pushed. */
    const char *text; /* The JSON text cJSON parsed. */
    size_t len;       /* Its length. */
    size_t cur;       /* Scan position: just past the last number token. */
    unsigned values;  /* Values pushed, for the budget. */
};

/* [-0, +1, -] Pushes the number `n`, reading its token from the text so
 * that integers keep every digit. */
static void push_number(struct dec *d, const cJSON *n)
{
    const char *t = d->text;
    size_t i = d->cur, start;
    int integral = 1;

    while (i < d->len) {
        char c = t[i];

        if (c == '"') {
            for (i++; i < d->len && t[i] != '"'; i++)
                if (t[i] == '\\') i++;
            i++;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) break;
        i++;
    }
    start = i;
    while (i < d->len && t[i] != '\0' && strchr("0123456789+-.eE", t[i])) {
        if (t[i] == '.' || t[i] == 'e' || t[i] == 'E') integral = 0;
        i++;
    }
    d->cur = i;
    if (integral && i > start && i - start < 24) {
        char b[24], *end;
        long long v;

        memcpy(b, t + start, i - start);
        b[i - start] = '\0';
        errno = 0;
        v = strtoll(b, &end, 10);
        /* The double check guards against a scan out of step with cJSON. */
        if (errno == 0 && *end == '\0' && (double)v == n->valuedouble) {
            lua_pushinteger(d->L, (lua_Integer)v);
            return;
        }
    }
    lua_pushnumber(d->L, (lua_Number)n->valuedouble);
}

/* [-0, +1, m] Pushes the Lua value of `n` (in document order, which keeps
 * the number scan in step). */
static void push_node(struct dec *d, const cJSON *n)
{
    lua_State *L = d->L;
    int count = 0;

    luaL_checkstack(L, 4, "JSON nested too deeply");
    /* May raise: the tree is the box's, freed by its __gc. */
    if (++d->values % JSON_VALUES_CHECK == 0)
        vsg_lua_meter(L, JSON_VALUES_CHECK * JSON_VALUE_COST);
    if (cJSON_IsNull(n)) {
        vsg_lua_pushnull(L);
    } else if (cJSON_IsTrue(n)) {
        lua_pushboolean(L, 1);
    } else if (cJSON_IsFalse(n)) {
        lua_pushboolean(L, 0);
    } else if (cJSON_IsNumber(n)) {
        push_number(d, n);
    } else if (cJSON_IsString(n)) {
        lua_pushstring(L, n->valuestring != NULL ? n->valuestring : "");
    } else if (cJSON_IsArray(n)) {
        lua_Integer i = 1;

        for (const cJSON *c = n->child; c != NULL; c = c->next) count++;
        lua_createtable(L, count, 0);
        for (const cJSON *c = n->child; c != NULL; c = c->next) {
            push_node(d, c);
            lua_rawseti(L, -2, i++);
        }
        vsg_lua_json_setarray(L, -1);
    } else if (cJSON_IsObject(n)) {
        for (const cJSON *c = n->child; c != NULL; c = c->next) count++;
        lua_createtable(L, 0, count);
        for (const cJSON *c = n->child; c != NULL; c = c->next) {
            lua_pushstring(L, c->string != NULL ? c->string : "");
            push_node(d, c);
            lua_rawset(L, -3);
        }
    } else {
        vsg_lua_pushnull(L);
    }
}

/* [-0, +0, -] __gc of struct box. */
static int box_gc(lua_State *L)
{
    struct box *b = lua_touserdata(L, 1);

    if (b != NULL) {
        vsg_buf_cleanup(&b->buf);
        cJSON_Delete(b->root);
        b->root = NULL;
    }
    return 0;
}

/* [-0, +1, m] Pushes an empty struct box. */
static struct box *push_box(lua_State *L)
{
    struct box *b = lua_newuserdatauv(L, sizeof *b, 0);

    memset(b, 0, sizeof *b);
    vsg_buf_init(&b->buf, 0);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &key_box_mt);
    lua_setmetatable(L, -2);
    return b;
}

/*
 * [-0, +(1|0), m] Parses `text` into b->root and pushes its value (1), or
 * writes why not to `msg` and pushes nothing (0). The tree is freed
 * before returning, or by the box if a push raises.
 */
/* Every number in `v` is finite. cJSON reads a number beyond a double's
 * range (1e999) as infinity, which no encoder writes back; Go's
 * encoding/json refuses such a number, and so does vsg.json. */
static int finite_numbers(const cJSON *v)
{
    if (cJSON_IsNumber(v)) return isfinite(v->valuedouble);
    for (const cJSON *c = v->child; c != NULL; c = c->next)
        if (!finite_numbers(c)) return 0;
    return 1;
}

static int decode_into(lua_State *L, const char *text, size_t len,
                       struct box *b, char *msg, size_t msgsz)
{
    const char *end = NULL;
    struct dec d;

    if (len == 0) {
        (void)snprintf(msg, msgsz, "invalid JSON: empty text");
        return 0;
    }
    b->root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (b->root == NULL) {
        size_t pos = end != NULL && end >= text && end <= text + len
                         ? (size_t)(end - text)
                         : 0;

        (void)snprintf(msg, msgsz, "invalid JSON at byte %zu", pos + 1);
        return 0;
    }
    while (end != NULL && end < text + len &&
           (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
        end++;
    if (end != text + len) {
        cJSON_Delete(b->root);
        b->root = NULL;
        (void)snprintf(msg, msgsz, "invalid JSON: unexpected data at byte "
                       "%zu", end != NULL ? (size_t)(end - text) + 1 : 1);
        return 0;
    }
    if (!finite_numbers(b->root)) {
        cJSON_Delete(b->root);
        b->root = NULL;
        (void)snprintf(msg, msgsz, "invalid JSON: a number is out of range");
        return 0;
    }
    d.L = L;
    d.text = text;
    d.len = len;
    d.cur = 0;
    d.values = 0;
    push_node(&d, b->root);
    cJSON_Delete(b->root);
    b->root = NULL;
    return 1;
}

/* Arguments of decode_protected(). */
struct decode_args {
    const char *text; /* The JSON text. */
    size_t len;       /* Its length. */
    int bad;          /* Set when the text is not JSON. */
    char msg[128];    /* Then, why. */
};

/* [-1, +(1|0), m] vsg_lua_json_decode() under protection. */
static int decode_protected(lua_State *L)
{
    struct decode_args *a = lua_touserdata(L, 1);
    struct box *b = push_box(L);

    if (decode_into(L, a->text, a->len, b, a->msg, sizeof a->msg)) return 1;
    a->bad = 1;
    return 0;
}

enum vsg_err vsg_lua_json_decode(lua_State *L, const char *text, size_t len,
                                 struct vsg_error *err)
{
    struct decode_args a;
    enum vsg_err rc;

    memset(&a, 0, sizeof a);
    a.text = text != NULL ? text : "";
    a.len = text != NULL ? len : 0;
    rc = vsg_lua_cpcall(vsg_lua_from(L), decode_protected, &a, 1, err);
    if (rc != VSG_OK) return rc;
    if (a.bad) {
        lua_pop(L, 1);
        return vsg_error_set(err, VSG_ERR_PARSE, "%s", a.msg);
    }
    return VSG_OK;
}

/* ====================================================================
 * vsg.json
 * ==================================================================== */

/* The memory cap of the state; in a plain interpreter (vsg.so, no host
 * state) none but what a buffer can hold. */
static size_t state_memory(lua_State *L)
{
    struct vsg_lua *s = vsg_lua_from(L);

    return s != NULL ? vsg_lua_limits(s).memory : SIZE_MAX / 2;
}

/* [-1, +1, e] vsg.json.encode(value) -> string; raises on values JSON
 * cannot hold. */
static int json_encode(lua_State *L)
{
    struct vsg_error err;
    struct box *b;

    luaL_checkany(L, 1);
    lua_settop(L, 1);
    b = push_box(L);
    vsg_buf_init(&b->buf, state_memory(L));
    if (vsg_lua_json_encode(L, 1, &b->buf, &err) != VSG_OK) {
        /* The work done counts too: a loop of failing calls is stopped. */
        vsg__lua_charge(L, b->buf.len / JSON_BYTES_PER_INSTRUCTION);
        vsg_buf_cleanup(&b->buf);
        vsg_lua_meter(L, 0);
        return luaL_error(L, "vsg.json.encode: %s", err.msg);
    }
    vsg__lua_charge(L, b->buf.len / JSON_BYTES_PER_INSTRUCTION);
    lua_pushlstring(L, b->buf.data != NULL ? b->buf.data : "", b->buf.len);
    vsg_buf_cleanup(&b->buf);
    vsg_lua_meter(L, 0);
    return 1;
}

/* [-1, +(1|2), m] vsg.json.decode(text) -> value | nil, err */
static int json_decode(lua_State *L)
{
    size_t len, max = state_memory(L) / 16;
    const char *text = luaL_checklstring(L, 1, &len);
    char msg[128];
    struct box *b;

    lua_settop(L, 1);
    if (len > max) {
        lua_pushnil(L);
        lua_pushfstring(L, "JSON text too large (%I bytes, limit %I)",
                        (lua_Integer)len, (lua_Integer)max);
        return 2;
    }
    vsg_lua_meter(L, len / JSON_BYTES_PER_INSTRUCTION);
    b = push_box(L);
    if (decode_into(L, text, len, b, msg, sizeof msg)) return 1;
    lua_pushnil(L);
    lua_pushstring(L, msg);
    return 2;
}

/* [-(0|1), +1, e] The body of vsg.json.array/object([t]). */
static int json_mark(lua_State *L, const char *key)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
    }
    set_marker(L, 1, key);
    return 1;
}

/* [-(0|1), +1, e] vsg.json.array([t]) -> t, marked as a JSON array. */
static int json_array(lua_State *L)
{
    return json_mark(L, &key_array_mt);
}

/* [-(0|1), +1, e] vsg.json.object([t]) -> t, marked as a JSON object. */
static int json_object(lua_State *L)
{
    return json_mark(L, &key_object_mt);
}

/* Where each function may run: everywhere (pure functions). */
static const struct vsg_lua_reg json_funcs[] = {
    {"encode", json_encode, VSG_LUA_CTX_ANY},
    {"decode", json_decode, VSG_LUA_CTX_ANY},
    {"array", json_array, VSG_LUA_CTX_ANY},
    {"object", json_object, VSG_LUA_CTX_ANY},
    {NULL, NULL, 0}};

int vsg__lua_open_json(lua_State *L)
{
    lua_createtable(L, 0, 5);
    vsg_lua_setfuncs(L, "vsg.json", json_funcs);
    vsg_lua_pushnull(L);
    lua_setfield(L, -2, "null");
    return 1;
}

/* [-1, +1, -] tostring(vsg.null) */
static int null_tostring(lua_State *L)
{
    lua_pushliteral(L, "vsg.null");
    return 1;
}

/* [-0, +0, m] Makes a marker metatable named `name` and stores it under
 * `key`. */
static void make_marker(lua_State *L, const char *key, const char *name)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__name");
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, key);
}

void vsg__lua_json_setup(lua_State *L)
{
    make_marker(L, &key_array_mt, "vsg.json.array");
    make_marker(L, &key_object_mt, "vsg.json.object");

    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &key_box_mt);

    /* The metatable of light userdata, which only vsg.null is. */
    vsg_lua_pushnull(L);
    lua_createtable(L, 0, 3);
    lua_pushcfunction(L, null_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "vsg.null");
    lua_setfield(L, -2, "__name");
    lua_pushliteral(L, "vsg.null");
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}
