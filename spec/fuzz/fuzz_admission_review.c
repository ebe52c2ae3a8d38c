/*
 * fuzz_admission_review.c - libFuzzer target for the decoding of
 * AdmissionReviews (vsg_webhook_review_decode(), core/webhook/webhook_review.c)
 * and the JSON Patch the mutating webhooks compute in C
 * (vsg_jsonpatch_diff()).
 *
 * The input is decoded as both routes do (v1 and the uninstall route).
 * What v1 accepts the uninstall route accepts too, with the same uid;
 * an accepted review has a request object and a uid. When the request
 * carries both object and oldObject, the patch from one to the other,
 * applied to a copy of the first, must give the second (cJSON_Compare),
 * and the patch between a document and itself is empty.
 * Seeds: spec/fuzz/corpus/admission_review.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook/jsonpatch.h"
#include "webhook/webhook.h"

/* Nonzero when some object in `j` has a key twice (cJSON keeps both; a
 * patch names one of them). */
static int dup_keys(const cJSON *j)
{
    for (const cJSON *c = j ? j->child : NULL; c; c = c->next) {
        if (cJSON_IsObject(j))
            for (const cJSON *d = c->next; d; d = d->next)
                if (c->string && d->string && strcmp(c->string, d->string) == 0) return 1;
        if (dup_keys(c)) return 1;
    }
    return 0;
}

static void check_patch(const cJSON *before, const cJSON *after)
{
    cJSON *ops = vsg_jsonpatch_diff(before, after), *doc;

    if (ops == NULL) return; /* Out of memory. */
    if (!cJSON_IsArray(ops)) abort();
    if (!(doc = cJSON_Duplicate(before, 1))) {
        cJSON_Delete(ops);
        return;
    }
    if (vsg_jsonpatch_apply(&doc, ops) != VSG_OK || !cJSON_Compare(doc, after, 1)) {
        char *p = cJSON_PrintUnformatted(ops);
        fprintf(stderr, "patch does not turn before into after: %s\n", p ? p : "?");
        abort();
    }
    cJSON_Delete(doc);
    cJSON_Delete(ops);
    if ((ops = vsg_jsonpatch_diff(after, after)) != NULL) {
        if (cJSON_GetArraySize(ops) != 0) abort();
        cJSON_Delete(ops);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vsg_webhook_review v1, any;
    enum vsg_err r1, r2;

    if (size > (1u << 18)) return 0;
    r1 = vsg_webhook_review_decode((const char *)data, size, 1, &v1);
    r2 = vsg_webhook_review_decode((const char *)data, size, 0, &any);
    if (r1 != VSG_OK && r1 != VSG_ERR_PARSE && r1 != VSG_ERR_NOMEM) abort();
    if (r1 == VSG_OK) {
        if (!cJSON_IsObject(v1.request) || v1.uid == NULL) abort();
        if (r2 != VSG_OK || strcmp(v1.uid, any.uid) != 0) abort();
        if (v1.object && v1.old && !dup_keys(v1.request)) {
            check_patch(v1.old, v1.object);
            check_patch(v1.object, v1.old);
        }
    } else if (v1.root != NULL || v1.uid != NULL) {
        abort();
    }
    vsg_webhook_review_cleanup(&v1);
    vsg_webhook_review_cleanup(&any);
    return 0;
}
