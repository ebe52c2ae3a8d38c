/*
 * controller/leadership.c - leader election callbacks and the hooks told
 * of leadership changes (see controller.h and internal.h).
 */
#include "controller/internal.h"

#include "base/log.h"

/* ====================================================================
 * Leadership callbacks (elector thread)
 * ==================================================================== */

static void call_hooks(struct vsg_ctl *ctl, int lead)
{
    pthread_mutex_lock(&ctl->hmu);
    for (size_t i = 0; i < ctl->nhooks; i++) ctl->hooks[i].fn(ctl->hooks[i].ud, lead);
    pthread_mutex_unlock(&ctl->hmu);
}

void vsg__ctl_on_lead(void *ud)
{
    struct vsg_ctl *ctl = ud;
    /* Everything gets a pass in the new term. */
    for (size_t i = 0; i < ctl->nrecs; i++) {
        char **keys;
        size_t n;
        struct rec *r = &ctl->recs[i];
        if (vsg_kube_cache_keys(vsg_kube_informer_cache(r->primary), &keys, &n) != VSG_OK) continue;
        for (size_t j = 0; j < n; j++) {
            vsg__ctl_enqueue(r, keys[j]);
            vsg_free(keys[j]);
        }
        vsg_free(keys);
    }
    pthread_mutex_lock(&ctl->mu);
    pthread_cond_broadcast(&ctl->cond);
    pthread_mutex_unlock(&ctl->mu);
    call_hooks(ctl, 1);
}

void vsg__ctl_on_unlead(void *ud)
{
    struct vsg_ctl *ctl = ud;
    if (!is_stopping(ctl))
        VSG_LOG_WARN(LOGGER, "leadership lost: reconciling stops until it is won again");
    call_hooks(ctl, 0);
}

int vsg_ctl_leading(struct vsg_ctl *ctl)
{
    return leading(ctl);
}

enum vsg_err vsg_ctl_add_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud)
{
    enum vsg_err rc = VSG_ERR_NOMEM;
    pthread_mutex_lock(&ctl->hmu);
    if (ctl->nhooks < VSG_CTL_MAX_HOOKS) {
        ctl->hooks[ctl->nhooks].fn = fn;
        ctl->hooks[ctl->nhooks].ud = ud;
        ctl->nhooks++;
        rc = VSG_OK;
    }
    pthread_mutex_unlock(&ctl->hmu);
    return rc;
}

void vsg_ctl_remove_leader_hook(struct vsg_ctl *ctl, vsg_ctl_leader_fn fn, void *ud)
{
    pthread_mutex_lock(&ctl->hmu);
    for (size_t i = 0; i < ctl->nhooks; i++)
        if (ctl->hooks[i].fn == fn && ctl->hooks[i].ud == ud) {
            memmove(&ctl->hooks[i], &ctl->hooks[i + 1], (ctl->nhooks - i - 1) * sizeof ctl->hooks[0]);
            ctl->nhooks--;
            break;
        }
    pthread_mutex_unlock(&ctl->hmu);
}

