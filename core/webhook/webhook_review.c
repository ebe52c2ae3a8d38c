/*
 * webhook_review.c - decoding of the AdmissionReviews the webhooks
 * receive (see webhook/webhook.h). Apart from webhook.c so that the fuzzer
 * (spec/fuzz/fuzz_admission_review.c) builds it alone.
 */
#include "webhook/webhook.h"

#include <math.h>
#include <string.h>

#include "base/mem.h"

/* Every number in `v` is finite. cJSON reads a number beyond the range
 * of a double (1e999) as infinity, which it then writes as null: a
 * review holding one would get a patch that changes it. Go's
 * encoding/json refuses such numbers, so the webhook does too. */
static int finite_numbers(const cJSON *v)
{
    const cJSON *c;
    if (cJSON_IsNumber(v)) return isfinite(v->valuedouble);
    cJSON_ArrayForEach(c, v)
        if (!finite_numbers(c)) return 0;
    return 1;
}

enum vsg_err vsg_webhook_review_decode(const char *body, size_t len, int v1,
                                       struct vsg_webhook_review *r)
{
    const cJSON *req, *o;
    const char *av;

    memset(r, 0, sizeof *r);
    vsg_mem_cjson_reset();
    r->root = cJSON_ParseWithLength(body, len);
    if (!r->root) return vsg_mem_cjson_failed() ? VSG_ERR_NOMEM : VSG_ERR_PARSE;
    if (!finite_numbers(r->root)) {
        vsg_webhook_review_cleanup(r);
        return VSG_ERR_PARSE;
    }
    req = cJSON_GetObjectItemCaseSensitive(r->root, "request");
    av = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r->root, "apiVersion"));
    r->uid = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "uid"));
    if (!r->uid || (v1 && (!av || strcmp(av, "admission.k8s.io/v1") != 0 || !cJSON_IsObject(req)))) {
        vsg_webhook_review_cleanup(r);
        return VSG_ERR_PARSE;
    }
    r->request = req;
    r->operation = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "operation"));
    r->name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "name"));
    r->ns = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(req, "namespace"));
    o = cJSON_GetObjectItemCaseSensitive(req, "object");
    r->object = cJSON_IsObject(o) ? o : NULL;
    o = cJSON_GetObjectItemCaseSensitive(req, "oldObject");
    r->old = cJSON_IsObject(o) ? o : NULL;
    r->dry_run = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "dryRun"));
    return VSG_OK;
}

void vsg_webhook_review_cleanup(struct vsg_webhook_review *r)
{
    cJSON_Delete(r->root);
    memset(r, 0, sizeof *r);
}
