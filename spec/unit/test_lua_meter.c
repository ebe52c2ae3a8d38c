/*
 * test_lua_meter.c - C work done for scripts is metered (host.c): the
 * time limit counts from the start of the call.
 *
 * Uses: lua_testutil.h, lua/host.h, base/vtime.h. Owns: its states.
 */
#include "lua_testutil.h"

#include <stdint.h>
#include <time.h>

#include "base/vtime.h"

/* A state without a practical budget: only the clock stops it. */
static struct vsg_lua *clock_state(uint32_t time_ms)
{
    struct vsg_lua_config cfg;
    struct vsg_error err;
    struct vsg_lua *s;

    memset(&cfg, 0, sizeof cfg);
    cfg.kind = VSG_LUA_KIND_FILTER;
    cfg.name = "test.lua.state";
    cfg.limits.instructions = UINT64_C(1) << 50;
    cfg.limits.time_ms = time_ms;
    s = vsg_lua_newstate(&cfg, &err);
    if (s == NULL) CHECK_FAIL_("vsg_lua_newstate: %s", err.msg);
    return s;
}

/* ---- the clock runs from the start of the call ------------------------ */

/* [-1, +0, e] Sleeps 150 ms (C work before any Lua), then loops in Lua. */
static int slow_then_loop(lua_State *L)
{
    struct timespec ts = {0, 150 * 1000 * 1000};

    (void)nanosleep(&ts, NULL);
    if (luaL_loadstring(L, "while true do end") != LUA_OK) lua_error(L);
    lua_call(L, 0, 0);
    return 0;
}

static void test_clock_from_call_start(void)
{
    struct vsg_lua *s = clock_state(100);
    struct vsg_error err;
    int64_t t0 = vsg_time_mono_ms(), ms;

    CHECK_INT(vsg_lua_cpcall(s, slow_then_loop, NULL, 0, &err),
              VSG_ERR_LIMIT);
    ms = vsg_time_mono_ms() - t0;
    printf("  150 ms of C, then a loop, limit 100 ms: %lld ms: %s\n",
           (long long)ms, err.msg);
    CHECK_HAS(err.msg, "time limit exceeded (100 ms)");
    /* Counting from the first hook it would be 250 ms. */
    CHECK(ms < 200);
    vsg_lua_close(s);
}

TEST_LIST = {
    {"clock_from_call_start", test_clock_from_call_start},
    {NULL, NULL}};

TEST_MAIN()
