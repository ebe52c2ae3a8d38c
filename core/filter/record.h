/*
 * filter/record.h - recorded events: `vsgate run --record FILE` writes each
 * event (before the filter) as one JSON line; `vsgate filter test
 * --record FILE` reads them back into the same event and CloudEvent.
 *
 * Provides: vsg_record_write() and vsg_record_read().
 * Uses: vsphere/event.h (decoder, encoders), cloudevents/event.h, cJSON,
 * libxml2, base/.
 * Owns: nothing beyond the caller's structs.
 *
 * One line per event, compact JSON, members in this order:
 *   the CloudEvent attributes as the sink gets them (specversion, id,
 *   source, type, time, datacontenttype, then the extensions: eventclass,
 *   vsphereapiversion), then
 *   "data": the payload as a JSON object (always JSON, also when the
 *           adapter sends XML: readable, and what `jq` wants), then
 *   "soap": the event element exactly as vCenter sent it in the
 *           ReadNextEvents response (namespaces declared on it), from
 *           which the typed event is decoded again.
 * A hand-written line may leave "soap" out: the event is then rebuilt
 * from "data" generically (numbers, strings, booleans, null, MoRefs
 * {Type, Value}, objects and arrays, with the class from `type`), which is
 * enough to try a filter, though the payload is not byte-exact Go output.
 */
#ifndef VSG_RECORD_H
#define VSG_RECORD_H

#include <stddef.h>
#include <stdio.h>

#include <libxml/tree.h>

#include "base/err.h"
#include "cloudevents/event.h"
#include "vsphere/event.h"

/* Longest record line accepted. */
#define VSG_RECORD_MAX_LINE (32u * 1024 * 1024)

/*
 * Writes the record of event `ev`, decoded from element `node` (may be
 * NULL: no "soap" member), whose CloudEvent is `ce`, as one line to `f`,
 * and flushes. VSG_ERR_IO when the write fails.
 */
enum vsg_err vsg_record_write(FILE *f, const xmlNode *node, const struct vsg_event *ev,
                              const struct vsg_ce *ce, struct vsg_error *err);

/*
 * Parses one record line into `ev` (need not be initialised) and `ce`
 * (initialised; its payload is the event encoded as its datacontenttype
 * says, JSON unless that is application/xml). VSG_ERR_PARSE with a reason
 * for a line that is not a record.
 */
enum vsg_err vsg_record_read(const char *line, size_t len, struct vsg_event *ev,
                             struct vsg_ce *ce, struct vsg_error *err);

#endif
