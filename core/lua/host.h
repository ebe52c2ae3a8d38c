/*
 * host.h - the Lua host: sandboxed, bounded lua_States for vsgate scripts.
 *
 * Provides: struct vsg_lua (one sandboxed lua_State with its limits and
 * bookkeeping) and its one factory vsg_lua_newstate(); text-only loading
 * (vsg_lua_load()); the one protected-call helper (vsg_lua_pcall()) that
 * turns Lua errors into enum vsg_err plus a "chunk:line: message" text;
 * in-memory modules for the sandboxed `require` (vsg_lua_add_module());
 * context guards (vsg_lua_check_context(), vsg_lua_setfuncs()) and the hook
 * through which modules above the host add `vsg.<name>` libraries
 * (vsg_lua_add_library(), or config.libs).
 * Uses: base/ (err, mem, buf, log, vtime), Lua 5.4, lua/json.h for `vsg`.
 * Owns: a struct vsg_lua owns its lua_State and copies of every string in
 * its config; vsg_lua_close() frees both. Tables of struct vsg_lua_reg and
 * struct vsg_lua_lib are borrowed and must outlive the states using them
 * (make them static const).
 *
 * One state per loaded script unit; never touched by two threads at once.
 *
 * The sandbox, by construction:
 *  - Globals are an allow-list: assert error getmetatable ipairs next pairs
 *    rawequal rawget rawlen rawset select tonumber tostring type _VERSION,
 *    the libraries string (no dump), table, math, utf8, os (time, clock,
 *    date only), `vsg`, and sandboxed versions of pcall, xpcall, load (text
 *    only; the env defaults to a fresh sandbox env), require, print (into
 *    the log at info), setmetatable (refuses __gc) and collectgarbage
 *    ("count" only). No io, package, debug, coroutine, dofile, loadfile,
 *    warn, string.dump, bytecode or C modules.
 *  - Every chunk (script, module, load()) runs in its own fresh _ENV table
 *    that it may write (so `function filter(ev)` works); reads fall back to
 *    the shared allow-list through the env's metatable, which is hidden.
 *    The library tables are read-only proxies; the string metatable is
 *    hidden (getmetatable("") is false).
 *  - Limits: a counting allocator caps the bytes the state holds; a count
 *    hook (every VSG_LUA_HOOK_PERIOD instructions) enforces an instruction
 *    budget and a wall-clock limit per outermost vsg_lua_pcall(), whose
 *    clock starts with the call. Work done in C for the script is charged
 *    to the same budget and checked against the same clock as it goes
 *    (vsg_lua_meter()): pattern matching (string.find/match/gmatch/gsub
 *    are a metered implementation of Lua 5.4's, lua_pattern.c), every
 *    library function whose work grows with its input (lua_meter.c), load,
 *    and the vsg functions. So no call runs much past its time limit,
 *    whatever the input.
 *    Hitting a limit is fatal for the whole call: the sandboxed pcall and
 *    xpcall re-raise it, so scripts cannot catch it. The call then fails
 *    with VSG_ERR_LIMIT and the state stays usable.
 *  - `require(name)` resolves, in order: "vsg" and "vsg.<lib>", in-memory
 *    modules (vsg_lua_add_module(), e.g. other keys of the script's
 *    ConfigMap; they override files), then the search path templates
 *    (vsgate's lua/ and plugins/ folders). Names are dotted identifiers
 *    ([A-Za-z_][A-Za-z0-9_-]* parts); files are read as text only.
 *
 * What is not metered: Lua's garbage collector (bounded by the memory
 * cap) and a single VM instruction's own work (a concatenation or table
 * resize, bounded by the memory cap too).
 */
#ifndef VSG_LUA_HOST_H
#define VSG_LUA_HOST_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include <lua.h>

#include "base/err.h"

/* The count hook runs every this many VM instructions (or every budget
 * instructions when the budget is smaller). */
#define VSG_LUA_HOOK_PERIOD 1000
/* Largest module file `require` reads. */
#define VSG_LUA_MODULE_MAX (1024 * 1024)

struct vsg_lua;

/* ====================================================================
 * Kinds, contexts, limits, configuration
 * ==================================================================== */

/* What a state runs; picks the default limits and the call context. */
enum vsg_lua_kind {
    VSG_LUA_KIND_FILTER,     /* A source's event filter/transform. */
    VSG_LUA_KIND_RECONCILER, /* A controller reconciler module. */
    VSG_LUA_KIND_ADMISSION,  /* Admission webhook logic (defaults, validate). */
    VSG_LUA_KIND_BINDING     /* Binding apply/remove patch logic. */
};

/* Where a vsg.* function may run: one bit per context. A state is in
 * exactly one context at a time (vsg_lua_set_context()). */
enum vsg_lua_context {
    VSG_LUA_CTX_LOAD = 1u << 0,      /* A chunk's main body is running. */
    VSG_LUA_CTX_FILTER = 1u << 1,    /* Inside a filter call. */
    VSG_LUA_CTX_RECONCILE = 1u << 2, /* Inside reconcile(). */
    VSG_LUA_CTX_FINALIZE = 1u << 3,  /* Inside finalize(). */
    VSG_LUA_CTX_ADMIT = 1u << 4,     /* Inside an admission handler. */
    VSG_LUA_CTX_BIND = 1u << 5       /* Inside binding apply/remove. */
};
/* Every context. */
#define VSG_LUA_CTX_ANY 0x3Fu
/* Every context but LOAD (calls made after loading). */
#define VSG_LUA_CTX_CALLS (VSG_LUA_CTX_ANY & ~(unsigned)VSG_LUA_CTX_LOAD)

/* time_ms value meaning "no wall-clock limit". */
#define VSG_LUA_NO_TIME_LIMIT UINT32_MAX

/* Resource limits of one state. A zero field means "the kind's default"
 * (see vsg_lua_limits_default()). */
struct vsg_lua_limits {
    size_t memory;         /* Bytes the state may hold at once. */
    uint64_t instructions; /* VM instructions per outermost call; C work
                              done for the script (log lines, JSON) is
                              charged too. */
    uint32_t time_ms;      /* Wall-clock ms per outermost call, from its
                              start; checked by the hook and while C work
                              for the script is charged;
                              VSG_LUA_NO_TIME_LIMIT for none. */
};

/* A library that becomes `vsg.<name>` (and `require "vsg.<name>"`). */
struct vsg_lua_lib {
    const char *name;   /* Field name in vsg, e.g. "kube"; NULL ends a list. */
    lua_CFunction open; /* Pushes the library table [-0, +1, m]; runs
                           protected, in the LOAD context. */
};

/* Everything vsg_lua_newstate() needs; strings are copied. */
struct vsg_lua_config {
    enum vsg_lua_kind kind;          /* What the state runs. */
    struct vsg_lua_limits limits;    /* Zero fields take the defaults. */
    const char *name;                /* Logger name for vsg.log and print,
                                        e.g. "vsgate.filter.ns/src";
                                        NULL: "vsgate.lua". */
    const char *root;                /* vsgate's install root; when set and
                                        search_path is NULL, the path is
                                        <root>/lua/?.lua;<root>/lua/?/init.lua;
                                        <root>/plugins/?.lua;
                                        <root>/plugins/?/init.lua. */
    const char *search_path;         /* ';'-separated file templates with
                                        one '?' each; wins over root; NULL
                                        and no root: no files. */
    const struct vsg_lua_lib *libs;  /* NULL, or libraries ended by an entry
                                        with a NULL name. */
};

/* A guarded function for vsg_lua_setfuncs(). */
struct vsg_lua_reg {
    const char *name;  /* Field name; NULL ends a list. */
    lua_CFunction fn;  /* The implementation. */
    unsigned contexts; /* Bitmask of enum vsg_lua_context where it may run. */
};

/* The defaults: FILTER 16 MiB, 1,000,000 instructions, 1 s; RECONCILER
 * 64 MiB, 10,000,000 instructions, 10 s; ADMISSION and BINDING 16 MiB,
 * 5,000,000 instructions, 2 s. The instruction budget is what normally
 * stops a runaway script, in its VM code or in the C work it causes
 * (deterministically, within some milliseconds of CPU: an instruction is
 * a few ns); the wall clock is the backstop (a starved process, garbage
 * collection near the memory cap). */
struct vsg_lua_limits vsg_lua_limits_default(enum vsg_lua_kind kind);

/* Smallest limits a user may set for a filter: a Lua state with the
 * filter libraries needs about half a MiB. */
#define VSG_FILTER_MIN_INSTRUCTIONS 1000
#define VSG_FILTER_MIN_MEMORY (1024u * 1024)
#define VSG_FILTER_MIN_TIME_MS 10

/* Sets each zero field of `l` to that of `def`. */
void vsg_lua_limits_fill(struct vsg_lua_limits *l, struct vsg_lua_limits def);

/* [-0, +1, m] Pushes `l` as {instructions = N, memoryBytes = N,
 * timeoutMilliseconds = N}, the fields of a VSphereSource's
 * spec.filter.limits. */
void vsg_lua_limits_push(lua_State *L, const struct vsg_lua_limits *l);

/* Reads such a table at `idx` into `l` over what it holds (absent or
 * non-integer fields keep their values). */
void vsg_lua_limits_read(lua_State *L, int idx, struct vsg_lua_limits *l);

/* The most a source's filter may ask for unless the controller says
 * otherwise (--filter-limits-max). */
#define VSG_FILTER_LIMITS_MAX_DEFAULT {256u * 1024 * 1024, 100000000, 30000}

/* Parses Lua limits written "instructions=N,memory=BYTES,timeoutMs=MS" (any
 * subset, in any order; BYTES may end in Ki, Mi or Gi) into `out`, over what
 * it holds: the fields not named keep their values. Each value must be a
 * positive integer; `setting` names the flag in messages. */
enum vsg_err vsg_lua_limits_parse(const char *setting, const char *text, struct vsg_lua_limits *out,
                                  struct vsg_error *err);

/* The context calls run in for `kind` (FILTER -> VSG_LUA_CTX_FILTER, ...). */
enum vsg_lua_context vsg_lua_kind_context(enum vsg_lua_kind kind);

/* ====================================================================
 * Life cycle
 * ==================================================================== */

/*
 * The one factory. Builds the sandbox, the vsg module and cfg->libs, all
 * in protected mode, and leaves the state in the LOAD context with an
 * empty stack. NULL on failure with `err` set (VSG_ERR_NOMEM,
 * VSG_ERR_LIMIT when the memory cap is too small, VSG_ERR_LUA when a
 * library's open function fails, VSG_ERR_INVAL for a bad library name).
 */
struct vsg_lua *vsg_lua_newstate(const struct vsg_lua_config *cfg,
                                 struct vsg_error *err);

/* Closes the lua_State and frees `s`. NULL is a no-op. */
void vsg_lua_close(struct vsg_lua *s);

/* The lua_State of `s` (borrowed; use it only from the owning thread). */
lua_State *vsg_lua_L(struct vsg_lua *s);

/* The struct vsg_lua a lua_State belongs to (any of its threads), or NULL
 * for a state vsg_lua_newstate() did not make (a plain interpreter that
 * loaded the vsg.so module; vsg_lua_meter() then charges nothing). */
struct vsg_lua *vsg_lua_from(lua_State *L);

/* ====================================================================
 * Introspection
 * ==================================================================== */

/* The kind given at creation. */
enum vsg_lua_kind vsg_lua_kind(const struct vsg_lua *s);

/* The logger name (borrowed, never NULL). */
const char *vsg_lua_name(const struct vsg_lua *s);

/* The effective limits (defaults filled in). */
struct vsg_lua_limits vsg_lua_limits(const struct vsg_lua *s);

/* Bytes the state holds now. */
size_t vsg_lua_memory(const struct vsg_lua *s);

/* Instructions used by the last finished outermost call, rounded up to the
 * hook period (0 for calls shorter than one period). */
uint64_t vsg_lua_instructions(const struct vsg_lua *s);

/* ====================================================================
 * Contexts
 * ==================================================================== */

/* Sets the current context (one enum vsg_lua_context bit) and returns the
 * previous one. New states start in VSG_LUA_CTX_LOAD. */
enum vsg_lua_context vsg_lua_set_context(struct vsg_lua *s,
                                         enum vsg_lua_context ctx);

/* The current context. */
enum vsg_lua_context vsg_lua_context(const struct vsg_lua *s);

/*
 * [-0, +0, v] Raises "<what> is not allowed in filter scripts" (or "at
 * load time", "in reconcilers", ...) unless the state's current context is
 * in `allowed`. For C functions that check by hand; vsg_lua_setfuncs()
 * does it for you.
 */
void vsg_lua_check_context(lua_State *L, unsigned allowed, const char *what);

/*
 * [-0, +0, m] Sets each function of `regs` into the table at the top of
 * the stack, wrapped so that it first checks its contexts; misuse raises
 * "<prefix>.<name> is not allowed in ...". `regs` ends with a NULL name
 * and must stay valid while the state lives (static const).
 */
void vsg_lua_setfuncs(lua_State *L, const char *prefix,
                      const struct vsg_lua_reg *regs);

/* ====================================================================
 * Loading and calling
 * ==================================================================== */

/*
 * [-0, +(0|1), -] Compiles `len` bytes of Lua text as a function whose
 * _ENV is a fresh sandbox env, and pushes it. `chunkname` is what messages
 * show: "filter.lua" is used as "=filter.lua", so errors read
 * "filter.lua:3: unexpected symbol near 'x'"; a name starting with '=' or
 * '@' is used as is. Binary chunks are refused. On failure pushes nothing:
 * VSG_ERR_LUA (syntax), VSG_ERR_LIMIT (memory cap), VSG_ERR_NOMEM.
 */
/* Sets (value non-NULL) or clears field `key` that every vsg.log line of
 * the state carries from now on, under the line's own fields (which win):
 * the controller sets knative.dev/key for each reconcile. */
void vsg_lua_log_context(lua_State *L, const char *key, const char *value);

/* [-0, +0, m] Marks the metatable at `idx` as a host table's whose
 * __newindex must see every write: the sandbox's rawset(t, k, v) on a table
 * with that metatable assigns through __newindex (a filter's event, whose
 * lazily built fields would otherwise shadow the raw write and send the
 * original). */
void vsg_lua_mark_settable(lua_State *L, int idx);

/* Whether an error message starts with a "chunk:line:" location (the
 * message handler of vsg_lua_pcall() adds one when the script had a line
 * at the time of the error). */
int vsg_lua_error_has_location(const char *msg);

enum vsg_err vsg_lua_load(struct vsg_lua *s, const char *chunkname,
                          const char *src, size_t len, struct vsg_error *err);

/*
 * [-(nargs+1), +(nresults|0), -] The one way C calls Lua: calls the
 * function below the `nargs` arguments on top of the stack, with a
 * traceback message handler. The outermost call (not one made from inside
 * another) resets the instruction budget and starts the wall clock.
 * On success leaves `nresults` results (LUA_MULTRET allowed). On failure
 * leaves nothing and returns VSG_ERR_LUA ("filter.lua:12: attempt to index
 * a nil value (local 'x')"), VSG_ERR_LIMIT ("filter.lua:3: instruction
 * budget exceeded (1000000 instructions)", "... memory limit exceeded
 * (16777216 bytes)", "... time limit exceeded (50 ms)") or VSG_ERR_NOMEM;
 * the traceback is logged at debug.
 */
enum vsg_err vsg_lua_pcall(struct vsg_lua *s, int nargs, int nresults,
                           struct vsg_error *err);

/*
 * [-0, +0, v] Charges `n` instructions to the current call for C work done
 * on a script's behalf, and enforces the limits now: raises "instruction
 * budget exceeded" when the call is over its budget, and "time limit
 * exceeded" when it is past its deadline (the clock is read once every
 * VSG_LUA_HOOK_PERIOD charged instructions), exactly as the count hook
 * does, so the call fails with VSG_ERR_LIMIT. For C functions whose work
 * grows with their input: charge before the work, or between pieces of it
 * (about one instruction per 8 to 16 bytes handled), so that no single C
 * call runs unmetered. Outside any vsg_lua_pcall() it does nothing.
 */
void vsg_lua_meter(lua_State *L, uint64_t n);

/* Makes every state stop the call it runs (error "interrupted: stopping",
 * VSG_ERR_CANCELLED from vsg_lua_pcall, not catchable by pcall) at the
 * next clock check (within VSG_LUA_HOOK_PERIOD instructions or charged
 * work) once *flag is nonzero: a process stopping on SIGTERM does not wait
 * for a long call to reach its time limit. NULL turns it off. The flag is
 * the signal handler's; it is only read. */
void vsg_lua_set_interrupt(volatile sig_atomic_t *flag);

/*
 * [-0, +(nresults|0), -] Calls the C function `fn` with `ud` as its only
 * argument (a light userdata) through vsg_lua_pcall(). Use it for any work
 * on the state that may allocate (building an event table, ...): outside a
 * protected call a failed allocation would abort the process.
 */
enum vsg_err vsg_lua_cpcall(struct vsg_lua *s, lua_CFunction fn, void *ud,
                            int nresults, struct vsg_error *err);

/*
 * [-0, +0, -] Makes `require(name)` load `len` bytes of text `src` (copied)
 * with chunk name "<name>.lua". Replaces an earlier source of that name;
 * a module already loaded stays loaded. VSG_ERR_INVAL for a bad name.
 */
enum vsg_err vsg_lua_add_module(struct vsg_lua *s, const char *name,
                                const char *src, size_t len,
                                struct vsg_error *err);

/*
 * [-0, +0, -] Runs `open` (protected, in the LOAD context) and installs
 * the table it returns, read-only, as vsg.<name>. Modules above the host
 * (kube, ...) bring their bindings this way; cmd/ decides which kinds of
 * script get which. VSG_ERR_INVAL for a bad or taken name, VSG_ERR_LUA
 * when `open` raises or returns no table.
 */
enum vsg_err vsg_lua_add_library(struct vsg_lua *s, const char *name,
                                 lua_CFunction open, struct vsg_error *err);

#endif
