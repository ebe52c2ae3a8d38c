/*
 * filter/internal.h - what filter_stage.c and filter_run.c share; not
 * part of the library's interface.
 */
#ifndef VSG_FILTER_INTERNAL_H
#define VSG_FILTER_INTERNAL_H

#include "filter/filter_stage.h"

/* Runs the entry of `sc` on event `ev` (CloudEvent `ce` without a
 * filter) into `res`: the outcome, the events and any error. */
void vsg__filter_run_script(const struct vsg_lua_script *sc, const struct vsg_event *ev,
                            const struct vsg_ce *ce, struct vsg_filter_result *res);

/* Empties `res` for reuse (the events and the error). */
void vsg__filter_result_clear(struct vsg_filter_result *r);

#endif
