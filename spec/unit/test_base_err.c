/*
 * test_base_err.c - unit tests for base/err.h.
 */
#include "check.h"

#include "base/err.h"

/* The numbers are part of the contract (append-only): pin them. */
static void test_codes_are_pinned(void)
{
    static const struct {
        enum vsg_err code; /* The enumerator. */
        int value;         /* Its pinned number. */
        const char *name;  /* Its pinned symbolic name. */
    } want[] = {
        {VSG_OK, 0, "OK"},
        {VSG_ERR_NOMEM, 1, "ENOMEM"},
        {VSG_ERR_INVAL, 2, "EINVAL"},
        {VSG_ERR_PARSE, 3, "EPARSE"},
        {VSG_ERR_RANGE, 4, "ERANGE"},
        {VSG_ERR_TOOBIG, 5, "ETOOBIG"},
        {VSG_ERR_IO, 6, "EIO"},
        {VSG_ERR_NOTFOUND, 7, "ENOTFOUND"},
        {VSG_ERR_CONFLICT, 8, "ECONFLICT"},
        {VSG_ERR_FORBIDDEN, 9, "EFORBIDDEN"},
        {VSG_ERR_UNAUTHORIZED, 10, "EUNAUTHORIZED"},
        {VSG_ERR_GONE, 11, "EGONE"},
        {VSG_ERR_TIMEOUT, 12, "ETIMEOUT"},
        {VSG_ERR_TRANSPORT, 13, "ETRANSPORT"},
        {VSG_ERR_HTTP, 14, "EHTTP"},
        {VSG_ERR_TLS, 15, "ETLS"},
        {VSG_ERR_FAULT, 16, "EFAULT"},
        {VSG_ERR_NOTAUTHENTICATED, 17, "ENOTAUTHENTICATED"},
        {VSG_ERR_INVALIDLOGIN, 18, "EINVALIDLOGIN"},
        {VSG_ERR_INVALIDSTATE, 19, "EINVALIDSTATE"},
        {VSG_ERR_LUA, 20, "ELUA"},
        {VSG_ERR_LIMIT, 21, "ELIMIT"},
        {VSG_ERR_CANCELLED, 22, "ECANCELLED"},
        {VSG_ERR_INTERNAL, 23, "EINTERNAL"},
        {VSG_ERR_UNSUPPORTED, 24, "EUNSUPPORTED"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK_INT(want[i].code, want[i].value);
        CHECK_STR(vsg_errname(want[i].code), want[i].name);
    }
    CHECK(VSG_ERR__COUNT_ >= 25);
}

static void test_messages(void)
{
    CHECK_STR(vsg_strerror(VSG_OK), "success");
    CHECK_STR(vsg_strerror(VSG_ERR_NOMEM), "out of memory");
    CHECK_STR(vsg_strerror(VSG_ERR_TOOBIG), "size limit exceeded");
    CHECK_STR(vsg_strerror(VSG_ERR_TRANSPORT), "connection error");
    CHECK_STR(vsg_strerror(VSG_ERR_FAULT), "SOAP fault");
    /* Every code has a non-empty message and a distinct E-name. */
    for (int i = 1; i < VSG_ERR__COUNT_; i++) {
        const char *name = vsg_errname((enum vsg_err)i);
        CHECK(vsg_strerror((enum vsg_err)i)[0] != '\0');
        CHECK(name[0] == 'E');
        CHECK(strcmp(vsg_strerror((enum vsg_err)i), "unknown error") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(name, vsg_errname((enum vsg_err)j)) != 0);
    }
}

static void test_unknown_codes(void)
{
    CHECK_STR(vsg_strerror(VSG_ERR__COUNT_), "unknown error");
    CHECK_STR(vsg_errname(VSG_ERR__COUNT_), "EUNKNOWN");
    CHECK_STR(vsg_strerror((enum vsg_err)-1), "unknown error");
    CHECK_STR(vsg_errname((enum vsg_err)-1), "EUNKNOWN");
    CHECK_STR(vsg_errname((enum vsg_err)100000), "EUNKNOWN");
}

static void test_retryable(void)
{
    CHECK_INT(vsg_err_retryable(VSG_ERR_TRANSPORT), 1);
    CHECK_INT(vsg_err_retryable(VSG_ERR_TIMEOUT), 1);
    CHECK_INT(vsg_err_retryable(VSG_ERR_NOTAUTHENTICATED), 1);
    CHECK_INT(vsg_err_retryable(VSG_OK), 0);
    CHECK_INT(vsg_err_retryable(VSG_ERR_NOMEM), 0);
    CHECK_INT(vsg_err_retryable(VSG_ERR_PARSE), 0);
    CHECK_INT(vsg_err_retryable(VSG_ERR_FAULT), 0);
    CHECK_INT(vsg_err_retryable(VSG_ERR_INVALIDLOGIN), 0);
    CHECK_INT(vsg_err_retryable((enum vsg_err)-7), 0);
}

static void test_error_set(void)
{
    struct vsg_error e;

    vsg_error_clear(&e);
    CHECK_INT(e.code, VSG_OK);
    CHECK_STR(e.msg, "");
    CHECK_INT(vsg_error_set(&e, VSG_ERR_PARSE, "line %d: bad %s", 12, "token"),
              VSG_ERR_PARSE);
    CHECK_INT(e.code, VSG_ERR_PARSE);
    CHECK_STR(e.msg, "line 12: bad token");
    /* NULL fmt stores the generic message. */
    CHECK_INT(vsg_error_set(&e, VSG_ERR_GONE, NULL), VSG_ERR_GONE);
    CHECK_STR(e.msg, "gone");
    /* NULL e is allowed and still returns the code. */
    CHECK_INT(vsg_error_set(NULL, VSG_ERR_IO, "x %d", 1), VSG_ERR_IO);
    vsg_error_clear(NULL);
    vsg_error_clear(&e);
    CHECK_INT(e.code, VSG_OK);
    CHECK_STR(e.msg, "");
}

static void test_error_set_wraps_own_message(void)
{
    struct vsg_error e;

    vsg_error_set(&e, VSG_ERR_NOTFOUND, "secret %s missing", "vc-creds");
    vsg_error_set(&e, e.code, "loading source: %s", e.msg);
    CHECK_INT(e.code, VSG_ERR_NOTFOUND);
    CHECK_STR(e.msg, "loading source: secret vc-creds missing");
}

static void test_error_set_truncates(void)
{
    struct vsg_error e;
    char big[2000];
    size_t n;

    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    vsg_error_set(&e, VSG_ERR_TOOBIG, "%s", big);
    n = strlen(e.msg);
    CHECK_INT(n, VSG_ERROR_MSG_MAX - 1);
    CHECK_STR(e.msg + n - 4, "a...");

    /* A 2-byte character straddling the cut is dropped whole. Place "é"
     * (C3 A9) so that its second byte would be the first cut byte. */
    memset(big, 'b', sizeof big - 1);
    big[VSG_ERROR_MSG_MAX - 5] = '\xC3';
    big[VSG_ERROR_MSG_MAX - 4] = '\xA9';
    vsg_error_set(&e, VSG_ERR_TOOBIG, "%s", big);
    n = strlen(e.msg);
    CHECK_INT(n, VSG_ERROR_MSG_MAX - 2);
    CHECK_STR(e.msg + n - 4, "b...");

    /* A message of exactly max - 1 bytes is not cut. */
    memset(big, 'c', sizeof big - 1);
    big[VSG_ERROR_MSG_MAX - 1] = '\0';
    vsg_error_set(&e, VSG_ERR_TOOBIG, "%s", big);
    CHECK_INT(strlen(e.msg), VSG_ERROR_MSG_MAX - 1);
    CHECK_INT(e.msg[VSG_ERROR_MSG_MAX - 2], 'c');
}

TEST_LIST = {
    {"codes_are_pinned", test_codes_are_pinned},
    {"messages", test_messages},
    {"unknown_codes", test_unknown_codes},
    {"retryable", test_retryable},
    {"error_set", test_error_set},
    {"error_set_wraps_own_message", test_error_set_wraps_own_message},
    {"error_set_truncates", test_error_set_truncates},
    {NULL, NULL},
};

TEST_MAIN()
