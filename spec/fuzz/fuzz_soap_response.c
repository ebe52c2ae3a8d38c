/*
 * fuzz_soap_response.c - libFuzzer target for the reading of SOAP
 * answers and faults (vsg_soap_read_response(), core/soap/session.c).
 *
 * The first input byte picks the HTTP status (200 or 500, plus 502 and
 * 404 now and then) and whether the lite tree may be used; the rest is the
 * body, read as the answer to RetrievePropertiesEx by one session made
 * once (no network is used). The outcome must be consistent: success
 * gives a <RetrievePropertiesExResponse>; a fault sets
 * vsg_soap_last_fault() and maps the documented types to their codes, and
 * its message stays on one line (faultstring and faultcode come from the
 * server; libxml2's own messages about a broken document may have more). Seeds: spec/fuzz/corpus/soap_response.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include "soap/session.h"

static void quiet(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

static struct vsg_soap_session *session;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long statuses[8] = {200, 200, 200, 500, 500, 500, 502, 404};
    struct vsg_soap_result res;
    struct vsg_error err;
    const char *fault;
    enum vsg_err rc;

    if (size < 1 || size > (1u << 20)) return 0;
    xmlSetGenericErrorFunc(NULL, quiet);
    if (session == NULL) {
        struct vsg_soap_opts o = {0};
        o.url = "https://127.0.0.1:1/sdk";
        o.keepalive_ms = -1;
        if (!(session = vsg_soap_session_new(&o, &err))) abort();
    }
    vsg_soap_result_init(&res);
    vsg_error_clear(&err);
    rc = vsg_soap_read_response(session, "RetrievePropertiesEx", statuses[data[0] & 7],
                                (const char *)data + 1, size - 1, (data[0] >> 3) & 1, &res, &err);
    fault = vsg_soap_last_fault(session);
    if (rc == VSG_OK) {
        if (res.response == NULL || fault[0] != '\0' || (res.doc == NULL) == (res.lite == NULL))
            abort();
    } else {
        if (res.response != NULL || res.doc != NULL || res.lite != NULL || err.msg[0] == '\0')
            abort();
        for (const char *p = err.msg; fault[0] && *p; p++)
            if ((unsigned char)*p < 0x20) {
                fprintf(stderr, "control character in: %s\n", err.msg);
                abort();
            }
        if (strcmp(fault, "NotAuthenticated") == 0 && rc != VSG_ERR_NOTAUTHENTICATED) abort();
        if (strcmp(fault, "InvalidLogin") == 0 && rc != VSG_ERR_INVALIDLOGIN) abort();
        if (fault[0] && rc != VSG_ERR_NOMEM && rc != VSG_ERR_FAULT &&
            rc != VSG_ERR_NOTAUTHENTICATED && rc != VSG_ERR_INVALIDLOGIN &&
            rc != VSG_ERR_INVALIDSTATE && rc != VSG_ERR_NOTFOUND)
            abort();
    }
    vsg_soap_result_cleanup(&res);
    return 0;
}
