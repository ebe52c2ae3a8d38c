/*
 * lua_meter.c - metered versions of the library functions whose work grows
 * with their input, for sandboxed states.
 *
 * Provides: vsg__lua_meter_install() (lua/internal.h).
 * Uses: Lua 5.4's C API and standard libraries, vsg_lua_meter() and
 * vsg__lua_charge() of host.c.
 * Owns: nothing.
 *
 * The count hook only runs between VM instructions, so a C function is
 * free however long it loops: utf8.len over 8 MB took 4.4 s to be stopped
 * (200 calls per hook period), table.move({}, 1, 1e15, 1) never was.
 * Every library function whose work is not constant is charged here, at
 * about what the VM would need for the same work (an instruction is 2-6 ns
 * of VM time; a byte copied or scanned is 0.5-4 ns):
 *
 *  - Loops with no bound but their arguments (table.insert, remove, move,
 *    concat, unpack; string.rep of empty strings) are written here, with
 *    Lua's semantics and messages, and charged as they go, METER_CHUNK
 *    instructions at a time, so the budget and the clock stop them
 *    midway. table.sort (Lua's algorithm, kept for its exact order) is
 *    charged n*log2(n) before it starts.
 *  - Functions whose work is bounded by the memory cap or the C stack
 *    (string.byte/char/sub/upper/lower/reverse/format/pack/unpack,
 *    utf8.char/codepoint/len/offset, table.pack, tonumber, os.date) run
 *    Lua's own code in the same call frame (so argument errors read as
 *    Lua's) and are charged by what they handled right after: one call
 *    does at most some milliseconds of work, and a loop of them is
 *    stopped by the budget as a loop of VM instructions is.
 * string.find/match/gmatch/gsub are lua_pattern.c's.
 */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>

#include "lua/host.h"
#include "lua/internal.h"

/* Bytes copied or scanned per instruction. */
#define METER_BYTES 16
/* Loops here charge this many instructions at a time. */
#define METER_CHUNK 256
/* Instructions per code point of utf8.char (a formatted string each). */
#define UTF8_CHAR_COST 8

/* What a loop has done and not paid yet. */
struct meter {
    lua_State *L;
    uint64_t n;
};

/* [-0, +0, v] Counts `k` instructions; charges them METER_CHUNK at a time
 * (which may stop the call). */
static inline void meter_add(struct meter *m, uint64_t k)
{
    m->n += k;
    if (m->n >= METER_CHUNK) {
        uint64_t n = m->n;

        m->n = 0;
        vsg_lua_meter(m->L, n);
    }
}

/* [-0, +0, -] Charges what is left at the end of a loop. */
static void meter_done(struct meter *m)
{
    vsg__lua_charge(m->L, m->n);
    m->n = 0;
}

/* The bytes of the string at `idx`, 0 for anything else. */
static size_t str_len(lua_State *L, int idx)
{
    return lua_type(L, idx) == LUA_TSTRING ? lua_rawlen(L, idx) : 0;
}

/* a * b, saturating. */
static uint64_t mul_sat(uint64_t a, uint64_t b)
{
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

/* ====================================================================
 * table
 * ==================================================================== */

/* What table.* needs of a non-table argument's metatable. */
#define NEED_INDEX 1u
#define NEED_NEWINDEX 2u
#define NEED_LEN 4u

/* [-0, +1, m] Pushes metatable[key], raw, for check_table(). */
static int has_meta(lua_State *L, int mt, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, mt) != LUA_TNIL;
}

/* [-0, +0, v] Lua's rule for the table argument `arg`: a table, or a value
 * whose metatable has the metamethods in `need`; else "table expected". */
static void check_table(lua_State *L, int arg, unsigned need)
{
    int top = lua_gettop(L), ok;

    if (lua_type(L, arg) == LUA_TTABLE) return;
    ok = lua_getmetatable(L, arg);
    if (ok && (need & NEED_INDEX) != 0) ok = has_meta(L, top + 1, "__index");
    if (ok && (need & NEED_NEWINDEX) != 0)
        ok = has_meta(L, top + 1, "__newindex");
    if (ok && (need & NEED_LEN) != 0) ok = has_meta(L, top + 1, "__len");
    if (!ok) luaL_checktype(L, arg, LUA_TTABLE);
    lua_settop(L, top);
}

/* [-0, +0, v] #t of the table argument `arg` after check_table(). */
static lua_Integer table_len(lua_State *L, int arg, unsigned need)
{
    check_table(L, arg, need | NEED_LEN);
    return luaL_len(L, arg);
}

/* [-(2|3), +0, e] table.insert(t, [pos,] v) */
static int tab_insert(lua_State *L)
{
    struct meter m = {L, 0};
    lua_Integer e, pos;

    e = (lua_Integer)((lua_Unsigned)table_len(L, 1, NEED_INDEX |
                                                         NEED_NEWINDEX) +
                      1u); /* The first free slot. */
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2,
                      "position out of bounds");
        for (lua_Integer i = e; i > pos; i--) { /* t[i] = t[i - 1] */
            meter_add(&m, 1);
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    meter_done(&m);
    return 0;
}

/* [-(1|2), +1, e] table.remove(t [, pos]) */
static int tab_remove(lua_State *L)
{
    struct meter m = {L, 0};
    lua_Integer size = table_len(L, 1, NEED_INDEX | NEED_NEWINDEX);
    lua_Integer pos = luaL_optinteger(L, 2, size);

    if (pos != size) /* Lua 5.4.4 names argument 1 here. */
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 1,
                      "position out of bounds");
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) { /* t[pos] = t[pos + 1] */
        meter_add(&m, 1);
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    meter_done(&m);
    return 1;
}

/* [-(4|5), +1, e] table.move(a1, f, e, t [, a2]) */
static int tab_move(lua_State *L)
{
    struct meter m = {L, 0};
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int to = !lua_isnoneornil(L, 5) ? 5 : 1;

    check_table(L, 1, NEED_INDEX);
    check_table(L, to, NEED_NEWINDEX);
    if (e >= f) {
        lua_Integer n;

        luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3,
                      "too many elements to move");
        n = e - f + 1;
        luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4,
                      "destination wrap around");
        /* Backwards when the ranges overlap with the target above. */
        if (t > e || t <= f || (to != 1 && !lua_compare(L, 1, to, LUA_OPEQ))) {
            for (lua_Integer i = 0; i < n; i++) {
                meter_add(&m, 1);
                lua_geti(L, 1, f + i);
                lua_seti(L, to, t + i);
            }
        } else {
            for (lua_Integer i = n - 1; i >= 0; i--) {
                meter_add(&m, 1);
                lua_geti(L, 1, f + i);
                lua_seti(L, to, t + i);
            }
        }
    }
    meter_done(&m);
    lua_pushvalue(L, to);
    return 1;
}

/* [-0, +0, e] Appends t[i] (a string or a number) for table.concat. */
static void concat_add(lua_State *L, luaL_Buffer *b, lua_Integer i,
                       struct meter *m)
{
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid value (%s) at index %I in table for 'concat'",
                   luaL_typename(L, -1), (LUA_INTEGER)i);
    meter_add(m, 1 + str_len(L, -1) / METER_BYTES);
    luaL_addvalue(b);
}

/* [-(1|2|3|4), +1, e] table.concat(t [, sep [, i [, j]]]) */
static int tab_concat(lua_State *L)
{
    struct meter m = {L, 0};
    lua_Integer last = table_len(L, 1, NEED_INDEX), i;
    size_t lsep;
    const char *sep = luaL_optlstring(L, 2, "", &lsep);
    luaL_Buffer b;

    i = luaL_optinteger(L, 3, 1);
    last = luaL_optinteger(L, 4, last);
    luaL_buffinit(L, &b);
    for (; i < last; i++) {
        concat_add(L, &b, i, &m);
        meter_add(&m, lsep / METER_BYTES);
        luaL_addlstring(&b, sep, lsep);
    }
    if (i == last) concat_add(L, &b, i, &m);
    luaL_pushresult(&b);
    meter_done(&m);
    return 1;
}

/* [-(1|2|3), +n, e] table.unpack(t [, i [, j]]) */
static int tab_unpack(lua_State *L)
{
    struct meter m = {L, 0};
    lua_Integer i = luaL_optinteger(L, 2, 1);
    lua_Integer e = lua_isnoneornil(L, 3) ? luaL_len(L, 1)
                                          : luaL_checkinteger(L, 3);
    lua_Unsigned n;

    if (i > e) return 0;
    n = (lua_Unsigned)e - (lua_Unsigned)i; /* One less than the count. */
    if (n >= (unsigned)INT_MAX || !lua_checkstack(L, (int)(++n)))
        return luaL_error(L, "too many results to unpack");
    for (; i < e; i++) { /* Stops before e: no overflow at maxinteger. */
        meter_add(&m, 1);
        lua_geti(L, 1, i);
    }
    lua_geti(L, 1, e);
    meter_done(&m);
    return (int)n;
}

/* [-?, +?, e] table.sort(t [, comp]): Lua's, charged n*log2(n) first (a
 * custom comparison is Lua code, metered as such). Upvalue 1: Lua's. A
 * table with a __len metamethod has it called twice. */
static int tab_sort(lua_State *L)
{
    lua_CFunction sort = lua_tocfunction(L, lua_upvalueindex(1));
    lua_Integer n;

    if (lua_type(L, 1) == LUA_TTABLE && luaL_getmetafield(L, 1, "__len") ==
                                            LUA_TNIL) {
        n = (lua_Integer)lua_rawlen(L, 1);
    } else {
        if (lua_type(L, 1) == LUA_TTABLE) lua_pop(L, 1); /* The __len. */
        n = table_len(L, 1, NEED_INDEX | NEED_NEWINDEX);
    }
    if (n > 1 && n < INT_MAX) {
        uint64_t log2n = 0;

        for (lua_Unsigned k = (lua_Unsigned)n; k > 0; k >>= 1) log2n++;
        vsg_lua_meter(L, mul_sat((uint64_t)n, log2n));
    }
    return sort(L);
}

/* ====================================================================
 * Lua's own functions, charged after (bounded work)
 * ==================================================================== */

/* What a function handled, in instructions, from its arguments (nargs of
 * them were given; a function may have replaced them) and its results
 * (the nres values on top). */
typedef uint64_t (*cost_fn)(lua_State *L, int nargs, int nres);

/* A function charged by `cost` after it ran. */
struct charged {
    const char *name;
    cost_fn cost;
};

/* [-n, +r, e] Calls Lua's function (upvalue 1) in this very frame, so its
 * argument errors name it as Lua's do, then charges what it did (upvalue
 * 2, its struct charged). */
static int charged_call(lua_State *L)
{
    lua_CFunction fn = lua_tocfunction(L, lua_upvalueindex(1));
    const struct charged *c = lua_touserdata(L, lua_upvalueindex(2));
    int nargs = lua_gettop(L), nres = fn(L);

    vsg_lua_meter(L, c->cost(L, nargs, nres));
    return nres;
}

/* The number of results. */
static uint64_t cost_results(lua_State *L, int nargs, int nres)
{
    (void)L;
    (void)nargs;
    return (uint64_t)nres;
}

/* The number of arguments. */
static uint64_t cost_args(lua_State *L, int nargs, int nres)
{
    (void)L;
    (void)nres;
    return (uint64_t)nargs;
}

/* The bytes of the (string) result, and the arguments. */
static uint64_t cost_result_bytes(lua_State *L, int nargs, int nres)
{
    uint64_t n = (uint64_t)nargs;

    for (int i = 0; i < nres; i++) n += str_len(L, -1 - i) / METER_BYTES;
    return n;
}

/* The bytes of argument 1, when it is a string. */
static uint64_t cost_arg1_bytes(lua_State *L, int nargs, int nres)
{
    (void)nres;
    return nargs >= 1 ? str_len(L, 1) / METER_BYTES : 0;
}

/* string.unpack: the values, and the bytes read (the last result is the
 * next position). */
static uint64_t cost_unpack(lua_State *L, int nargs, int nres)
{
    lua_Integer next = lua_tointeger(L, -1);

    (void)nargs;
    return (uint64_t)nres + (next > 0 ? (uint64_t)next / METER_BYTES : 0);
}

/* utf8.char: a formatted string per code point. */
static uint64_t cost_utf8_char(lua_State *L, int nargs, int nres)
{
    (void)L;
    (void)nres;
    return mul_sat((uint64_t)nargs, UTF8_CHAR_COST);
}

/* utf8.len(s [, i [, j]]): the bytes from i to j. */
static uint64_t cost_utf8_len(lua_State *L, int nargs, int nres)
{
    lua_Integer len = (lua_Integer)str_len(L, 1), i = 1, j = -1;

    (void)nres;
    if (nargs >= 2 && lua_isinteger(L, 2)) i = lua_tointeger(L, 2);
    if (nargs >= 3 && lua_isinteger(L, 3)) j = lua_tointeger(L, 3);
    if (i < 0) i = i < -len ? 0 : len + i + 1;
    if (j < 0) j = j < -len ? 0 : len + j + 1;
    if (j > len) j = len;
    return j >= i ? (uint64_t)(j - i + 1) / METER_BYTES : 0;
}

/* utf8.offset(s, n [, i]): about |n| characters walked, at most the
 * string. */
static uint64_t cost_utf8_offset(lua_State *L, int nargs, int nres)
{
    uint64_t len = str_len(L, 1), walk = 0;

    (void)nres;
    if (nargs >= 2 && lua_isinteger(L, 2)) {
        lua_Integer n = lua_tointeger(L, 2);

        walk = n < 0 ? 0u - (uint64_t)n : (uint64_t)n;
        walk = mul_sat(walk, 4);
    }
    return (walk < len ? walk : len) / METER_BYTES;
}

static const struct charged string_charged[] = {
    {"byte", cost_results},          {"char", cost_args},
    {"sub", cost_result_bytes},      {"upper", cost_result_bytes},
    {"lower", cost_result_bytes},    {"reverse", cost_result_bytes},
    {"format", cost_result_bytes},   {"pack", cost_result_bytes},
    {"unpack", cost_unpack},         {"packsize", cost_arg1_bytes},
    {NULL, NULL}};

static const struct charged utf8_charged[] = {
    {"char", cost_utf8_char},     {"codepoint", cost_results},
    {"len", cost_utf8_len},       {"offset", cost_utf8_offset},
    {NULL, NULL}};

static const struct charged table_charged[] = {{"pack", cost_args},
                                               {NULL, NULL}};

static const struct charged base_charged[] = {{"tonumber", cost_arg1_bytes},
                                              {NULL, NULL}};

static const struct charged os_charged[] = {{"date", cost_result_bytes},
                                            {NULL, NULL}};

/* [-0, +0, m] Wraps each function of `list` in the table at `t`. */
static void wrap_charged(lua_State *L, int t, const struct charged *list)
{
    for (const struct charged *c = list; c->name != NULL; c++) {
        lua_getfield(L, t, c->name);
        if (!lua_iscfunction(L, -1) || lua_getupvalue(L, -1, 1) != NULL)
            luaL_error(L, "cannot meter '%s'", c->name);
        lua_pushlightuserdata(L, (void *)c);
        lua_pushcclosure(L, charged_call, 2);
        lua_setfield(L, t, c->name);
    }
}

/* ====================================================================
 * string.rep
 * ==================================================================== */

/* [-(2|3), +1, e] string.rep(s, n [, sep]): Lua's, charged by the bytes
 * before; Lua loops n times even for empty strings, this does not.
 * Upvalue 1: Lua's. */
static int str_rep(lua_State *L)
{
    lua_CFunction rep = lua_tocfunction(L, lua_upvalueindex(1));
    size_t l, lsep;
    lua_Integer n;

    (void)luaL_checklstring(L, 1, &l);
    n = luaL_checkinteger(L, 2);
    (void)luaL_optlstring(L, 3, "", &lsep);
    if (n > 0) {
        uint64_t total = mul_sat((uint64_t)n, (uint64_t)l + lsep);

        if (total == 0) {
            lua_pushliteral(L, "");
            return 1;
        }
        /* Too big for the memory cap: Lua's fails before any work. */
        if (total <= vsg_lua_limits(vsg_lua_from(L)).memory)
            vsg_lua_meter(L, total / METER_BYTES);
    }
    return rep(L);
}

/* ====================================================================
 * Installing
 * ==================================================================== */

/* [-0, +0, m] Sets `fn` as t[name] with t[name]'s old value as upvalue 1
 * (Lua's function, called in the same frame). */
static void wrap_same_frame(lua_State *L, int t, const char *name,
                            lua_CFunction fn)
{
    lua_getfield(L, t, name);
    if (!lua_iscfunction(L, -1) || lua_getupvalue(L, -1, 1) != NULL)
        luaL_error(L, "cannot meter '%s'", name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, t, name);
}

void vsg__lua_meter_install(lua_State *L, int base, int string, int table,
                            int utf8, int os)
{
    static const luaL_Reg table_own[] = {{"insert", tab_insert},
                                         {"remove", tab_remove},
                                         {"move", tab_move},
                                         {"concat", tab_concat},
                                         {"unpack", tab_unpack},
                                         {NULL, NULL}};

    base = lua_absindex(L, base);
    string = lua_absindex(L, string);
    table = lua_absindex(L, table);
    utf8 = lua_absindex(L, utf8);
    os = lua_absindex(L, os);
    wrap_charged(L, base, base_charged);
    wrap_charged(L, os, os_charged);
    wrap_charged(L, string, string_charged);
    wrap_charged(L, utf8, utf8_charged);
    wrap_charged(L, table, table_charged);
    wrap_same_frame(L, string, "rep", str_rep);
    wrap_same_frame(L, table, "sort", tab_sort);
    lua_pushvalue(L, table);
    luaL_setfuncs(L, table_own, 0);
    lua_pop(L, 1);
}
