/*
 * client/common.c - libvsgate's general functions (version, status names,
 * freeing) and the helpers of internal.h.
 */
#include "client/internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "base/log.h"
#include "base/mem.h"

#ifndef VSG_VERSION
#define VSG_VERSION "0"
#endif

VSGATE_API const char *vsgate_version(void)
{
    return VSG_VERSION;
}

static const struct {
    const char *name, *text;
} status_text[] = {
    [VSGATE_OK] = {"OK", "success"},
    [VSGATE_EINVAL] = {"EINVAL", "invalid argument"},
    [VSGATE_ECONFIG] = {"ECONFIG", "invalid configuration"},
    [VSGATE_ENOMEM] = {"ENOMEM", "out of memory"},
    [VSGATE_ECONNECT] = {"ECONNECT", "cannot connect to vCenter"},
    [VSGATE_ETIMEOUT] = {"ETIMEOUT", "timed out"},
    [VSGATE_ETLS] = {"ETLS", "TLS error"},
    [VSGATE_ELOGIN] = {"ELOGIN", "invalid login"},
    [VSGATE_ESESSION] = {"ESESSION", "session not authenticated"},
    [VSGATE_EFAULT] = {"EFAULT", "SOAP fault"},
    [VSGATE_EHTTP] = {"EHTTP", "unexpected HTTP status"},
    [VSGATE_EPROTO] = {"EPROTO", "unexpected response"},
    [VSGATE_EINTERNAL] = {"EINTERNAL", "internal error"},
};

VSGATE_API const char *vsgate_strerror(vsgate_status code)
{
    if ((unsigned)code >= sizeof status_text / sizeof *status_text) return "unknown error";
    return status_text[code].text;
}

VSGATE_API const char *vsgate_status_name(vsgate_status code)
{
    if ((unsigned)code >= sizeof status_text / sizeof *status_text) return "EUNKNOWN";
    return status_text[code].name;
}

VSGATE_API void vsgate_free(void *p)
{
    vsg_free(p);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_failed;

static void global_init(void)
{
    const char *lv = getenv("VSGATE_LOG_LEVEL");
    if (!lv || !*lv || vsg_log_set_level_from_string(lv) != VSG_OK)
        vsg_log_set_level_from_string("warn");
    xmlInitParser();
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) init_failed = 1;
}

vsgate_status vsg_client_global_init(vsgate_error *err)
{
    pthread_once(&once, global_init);
    if (init_failed) {
        struct vsg_error e;
        vsg_error_set(&e, VSG_ERR_INTERNAL, "curl_global_init failed");
        return vsg_client_fail(err, VSGATE_EINTERNAL, &e, NULL, 0);
    }
    return VSGATE_OK;
}

vsgate_status vsg_client_status(enum vsg_err rc)
{
    switch (rc) {
    case VSG_OK: return VSGATE_OK;
    case VSG_ERR_NOMEM: return VSGATE_ENOMEM;
    case VSG_ERR_INVAL: return VSGATE_EINVAL;
    case VSG_ERR_TIMEOUT: return VSGATE_ETIMEOUT;
    case VSG_ERR_TRANSPORT: return VSGATE_ECONNECT;
    case VSG_ERR_TLS: return VSGATE_ETLS;
    case VSG_ERR_INVALIDLOGIN: return VSGATE_ELOGIN;
    case VSG_ERR_UNAUTHORIZED: return VSGATE_ELOGIN;
    case VSG_ERR_NOTAUTHENTICATED: return VSGATE_ESESSION;
    case VSG_ERR_FAULT:
    case VSG_ERR_INVALIDSTATE:
    case VSG_ERR_NOTFOUND: return VSGATE_EFAULT;
    case VSG_ERR_HTTP: return VSGATE_EHTTP;
    case VSG_ERR_PARSE:
    case VSG_ERR_TOOBIG: return VSGATE_EPROTO;
    default: return VSGATE_EINTERNAL;
    }
}

vsgate_status vsg_client_fail(vsgate_error *out, vsgate_status code,
                              const struct vsg_error *e, const char *fault,
                              long http_status)
{
    if (!out) return code;
    out->code = code;
    out->http_status = http_status;
    snprintf(out->fault, sizeof out->fault, "%s", fault ? fault : "");
    snprintf(out->message, sizeof out->message, "%s",
             e && e->msg[0] ? e->msg : vsgate_strerror(code));
    return code;
}

void vsg_client_ok(vsgate_error *out)
{
    if (!out) return;
    memset(out, 0, sizeof *out);
}
