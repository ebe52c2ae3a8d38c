/*
 * test_event.c - the event decoder and encoders on hand-made and hostile
 * input: unknown classes and fields (kept generically), interface slots
 * without or with odd xsi:type, values Go would reject, the limits, the
 * failing allocator, Go's escaping and float formatting, and the value
 * builder API. The byte-for-byte comparison with Go is test_event_golden.
 * Uses: vsphere/event.h, vsphere/schema.h, cJSON (to inspect output).
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>

#include "check.h"
#include "event_fixture.h"
#include "vsphere/event.h"
#include "vsphere/schema.h"

#define ENV_HEAD                                                             \
    "<soapenv:Envelope "                                                     \
    "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" "           \
    "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "                        \
    "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>" \
    "<ReadNextEventsResponse xmlns=\"urn:vim25\">"
#define ENV_TAIL "</ReadNextEventsResponse></soapenv:Body></soapenv:Envelope>"
#define BASE                                                                 \
    "<key>7</key><chainId>7</chainId>"                                       \
    "<createdTime>2026-01-02T03:04:05.5Z</createdTime><userName>u</userName>"

/* Decoded event plus its JSON and XML payloads. */
struct out {
    struct vsg_event ev;
    struct vsg_buf json, xml;
    cJSON *j;
    enum vsg_err rc;
    struct vsg_error err;
};

static xmlDoc *doc_now;

static void out_free(struct out *o)
{
    vsg_event_cleanup(&o->ev);
    vsg_buf_cleanup(&o->json);
    vsg_buf_cleanup(&o->xml);
    cJSON_Delete(o->j);
    if (doc_now) xmlFreeDoc(doc_now);
    doc_now = NULL;
}

/* Decodes the first event of `xml` (an envelope or a bare element). */
static void run(struct out *o, const char *xml,
                const struct vsg_event_limits *lim)
{
    xmlNode *nodes[4];

    memset(o, 0, sizeof *o);
    vsg_buf_init(&o->json, 1 << 24);
    vsg_buf_init(&o->xml, 1 << 24);
    doc_now = evfx_parse(xml, strlen(xml));
    CHECK(doc_now != NULL);
    CHECK(evfx_events(doc_now, nodes, 4) >= 1);
    o->rc = vsg_event_decode(nodes[0], lim, &o->ev, &o->err);
    if (o->rc != VSG_OK) return;
    CHECK_INT(vsg_event_encode_json(&o->ev, &o->json), VSG_OK);
    CHECK_INT(vsg_event_encode_xml(&o->ev, &o->xml), VSG_OK);
    o->j = cJSON_Parse(o->json.data);
    CHECK(o->j != NULL);
}

#define CHECK_CONTAINS(hay, needle)                                          \
    do {                                                                     \
        const char *h_ = (hay), *n_ = (needle);                              \
        if (h_ == NULL || strstr(h_, n_) == NULL)                            \
            CHECK_FAIL_("\"%s\" not in \"%.800s\"", n_, h_ ? h_ : "(null)"); \
    } while (0)

/* ====================================================================
 * Unknown classes and fields
 * ==================================================================== */

static void test_unknown_class(void)
{
    struct out o;

    run(&o, ENV_HEAD "<returnval xsi:type=\"vim25:HostFutureThingEvent\">" BASE
        "<host><name>h</name><host type=\"HostSystem\">host-1</host></host>"
        "<newField>x</newField><list>1</list><list>2</list>"
        "<spec><a>1</a><b type=\"VirtualMachine\">vm-1</b><a>2</a></spec>"
        "<count xsi:type=\"xsd:int\">5</count>"
        "</returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_STR(o.ev.class_name, "HostFutureThingEvent");
    CHECK_INT(o.ev.known, 0);
    CHECK_STR(o.ev.detail, "HostFutureThingEvent");
    CHECK_INT(o.ev.eventclass, VSG_EVENT_CLASS_EVENT);
    CHECK_INT(o.ev.key, 7);
    /* The base Event fields are typed; the rest is generic, in order. */
    CHECK_STR(o.json.data,
              "{\"Key\":7,\"ChainId\":7,\"CreatedTime\":\"2026-01-02T03:04:05.5Z\","
              "\"UserName\":\"u\",\"Datacenter\":null,\"ComputeResource\":null,"
              "\"Host\":{\"Name\":\"h\",\"Host\":{\"Type\":\"HostSystem\",\"Value\":"
              "\"host-1\"}},\"Vm\":null,\"Ds\":null,\"Net\":null,\"Dvs\":null,"
              "\"FullFormattedMessage\":\"\",\"ChangeTag\":\"\",\"NewField\":\"x\","
              "\"List\":[\"1\",\"2\"],\"Spec\":{\"A\":[\"1\",\"2\"],\"B\":{\"Type\":"
              "\"VirtualMachine\",\"Value\":\"vm-1\"}},\"Count\":5}");
    CHECK_STR(o.xml.data,
              "<HostFutureThingEvent><key>7</key><chainId>7</chainId>"
              "<createdTime>2026-01-02T03:04:05.5Z</createdTime><userName>u"
              "</userName><host><name>h</name><host type=\"HostSystem\">host-1"
              "</host></host><newField>x</newField><list>1</list><list>2</list>"
              "<spec><a>1</a><a>2</a><b type=\"VirtualMachine\">vm-1</b></spec>"
              "<count>5</count></HostFutureThingEvent>");
    out_free(&o);
}

static void test_unknown_fields_on_known_class(void)
{
    struct out o;
    struct vsg_value *tgw;

    run(&o, ENV_HEAD "<returnval xsi:type=\"VmPoweredOnEvent\">" BASE
        "<changeTag>c</changeTag><tgw><id>t-1</id></tgw>"
        "<auditId>a-9</auditId><template>true</template></returnval>" ENV_TAIL,
        NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_INT(o.ev.known, 1);
    CHECK_STR(o.ev.detail, "VmPoweredOnEvent");
    /* Known fields keep Go's order; unknown ones follow, in input order. */
    CHECK_CONTAINS(o.json.data, "\"ChangeTag\":\"c\",\"Template\":true,"
                                "\"Tgw\":{\"Id\":\"t-1\"},\"AuditId\":\"a-9\"}");
    CHECK_CONTAINS(o.xml.data, "<changeTag>c</changeTag><template>true"
                               "</template><tgw><id>t-1</id></tgw><auditId>a-9"
                               "</auditId></VmPoweredOnEvent>");
    tgw = vsg_value_field(&o.ev.root, "tgw");
    CHECK(tgw != NULL);
    CHECK(tgw->flags & VSG_VALUE_F_UNKNOWN);
    CHECK(!(vsg_value_field(&o.ev.root, "template")->flags &
            VSG_VALUE_F_UNKNOWN));
    out_free(&o);
}

static void test_event_classes(void)
{
    struct out o;

    run(&o, ENV_HEAD "<returnval xsi:type=\"ExtendedEvent\">" BASE
        "<message>m</message><eventTypeId>com.x.y</eventTypeId>"
        "<managedObject type=\"Folder\">group-d1</managedObject>"
        "</returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.ev.eventclass, VSG_EVENT_CLASS_EXTENDED);
    CHECK_STR(vsg_event_class_str(o.ev.eventclass), "extendedevent");
    CHECK_STR(o.ev.detail, "com.x.y");
    CHECK_CONTAINS(o.json.data, "\"Data\":null}");
    out_free(&o);

    /* EventEx without eventTypeId: X is "" as in Go. */
    run(&o, ENV_HEAD "<returnval xsi:type=\"EventEx\">" BASE "</returnval>"
        ENV_TAIL, NULL);
    CHECK_INT(o.ev.eventclass, VSG_EVENT_CLASS_EVENTEX);
    CHECK_STR(o.ev.detail, "");
    out_free(&o);

    /* A known type that is not an Event: decoded as Event, kept name. */
    run(&o, ENV_HEAD "<returnval xsi:type=\"VirtualMachineConfigSpec\">" BASE
        "<name>n</name></returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_INT(o.ev.known, 0);
    CHECK_STR(o.ev.detail, "VirtualMachineConfigSpec");
    CHECK_CONTAINS(o.json.data, "\"ChangeTag\":\"\",\"Name\":\"n\"}");
    out_free(&o);
}

/* Without xsi:type the root element's name is the class (vsgate's own XML
 * payload decodes back to the same payloads). */
static void test_xml_payload_round_trip(void)
{
    static const char *const files[] = {"vcenter-VmPoweredOnEvent",
                                        "vcsim-VmReconfiguredEvent",
                                        "vcsim-RoleAddedEvent"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        char *xml, *json, *nl;
        struct out o;
        snprintf(path, sizeof path, "%s/%s.xml", VSG_EVENT_FIXTURES_DIR,
                 files[i]);
        xml = evfx_read_file(path, NULL);
        snprintf(path, sizeof path, "%s/%s.json", VSG_EVENT_FIXTURES_DIR,
                 files[i]);
        json = evfx_read_file(path, NULL);
        CHECK(xml != NULL && json != NULL);
        if ((nl = strchr(json, '\n')) != NULL) *nl = '\0';
        run(&o, xml, NULL);
        CHECK_INT(o.rc, VSG_OK);
        CHECK_INT(o.ev.known, 1);
        if ((nl = strchr(xml, '\n')) != NULL) *nl = '\0';
        CHECK_STR(o.xml.data, xml);
        CHECK_STR(o.json.data, json);
        out_free(&o);
        vsg_free(xml);
        vsg_free(json);
    }
}

static void test_plain_returnval(void)
{
    struct out o;

    run(&o, "<returnval>" BASE "</returnval>", NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_STR(o.ev.class_name, "Event");
    CHECK_INT(o.ev.known, 1);
    out_free(&o);
}

/* ====================================================================
 * Interfaces and xsi:type
 * ==================================================================== */

static void test_xsi_type_by_namespace(void)
{
    struct out o;

    /* Any prefix bound to the XSI namespace counts, any other does not. */
    run(&o, "<returnval xmlns:q=\"http://www.w3.org/2001/XMLSchema-instance\" "
            "xmlns:z=\"urn:other\" z:type=\"EventEx\" "
            "q:type=\"RoleAddedEvent\">" BASE
            "<privilegeList>System.View</privilegeList></returnval>",
        NULL);
    CHECK_STR(o.ev.class_name, "RoleAddedEvent");
    CHECK_CONTAINS(o.json.data, "\"PrivilegeList\":[\"System.View\"]}");
    out_free(&o);

    /* An undeclared literal xsi: prefix, as Go's decoder accepts. */
    run(&o, "<returnval xsi:type=\"VmPoweredOffEvent\">" BASE "</returnval>",
        NULL);
    CHECK_STR(o.ev.class_name, "VmPoweredOffEvent");
    out_free(&o);
}

static void test_interfaces(void)
{
    struct out o;

    run(&o, ENV_HEAD "<returnval xsi:type=\"EventEx\">" BASE
        "<arguments><key>noType</key><value>plain</value></arguments>"
        "<arguments><key>unknownType</key><value xsi:type=\"FutureType\">"
        "<x>1</x></value></arguments>"
        "<fault><fault><faultMessage><key>k</key></faultMessage>"
        "</fault></fault></returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    /* AnyType without a known xsi:type: generic (Go: nil). */
    CHECK_CONTAINS(o.json.data, "{\"Key\":\"noType\",\"Value\":\"plain\"}");
    CHECK_CONTAINS(o.json.data,
                   "{\"Key\":\"unknownType\",\"Value\":{\"X\":\"1\"}}");
    /* BaseMethodFault without xsi:type: decoded as MethodFault. */
    CHECK_CONTAINS(o.json.data, "\"Fault\":{\"Fault\":{\"FaultCause\":null,"
                                "\"FaultMessage\":[{\"Key\":\"k\",\"Arg\":null,"
                                "\"Message\":\"\"}]},\"LocalizedMessage\":\"\"}");
    out_free(&o);

    /* Unknown fault class: MethodFault fields typed, the rest generic, the
     * name kept; a known but incompatible class: the base, counted. */
    run(&o, ENV_HEAD "<returnval xsi:type=\"VmFailedToPowerOnEvent\">" BASE
        "<reason><fault xsi:type=\"FutureFault\"><faultMessage><key>k</key>"
        "</faultMessage><detail>d</detail></fault></reason>"
        "</returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_CONTAINS(o.json.data, "\"Reason\":{\"Fault\":{\"FaultCause\":null,"
                                "\"FaultMessage\":[{\"Key\":\"k\",\"Arg\":null,"
                                "\"Message\":\"\"}],\"Detail\":\"d\"}");
    {
        struct vsg_value *r = vsg_value_field(&o.ev.root, "reason");
        struct vsg_value *f = vsg_value_field(r, "fault");
        CHECK(f != NULL && f->kind == VSG_VALUE_OBJECT);
        CHECK_STR(f->u.list.type, "FutureFault");
    }
    CHECK_INT(o.ev.warnings, 0);
    out_free(&o);

    run(&o, ENV_HEAD "<returnval xsi:type=\"VmFailedToPowerOnEvent\">" BASE
        "<reason><fault xsi:type=\"VmPoweredOnEvent\"><template>true"
        "</template></fault></reason></returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_INT(o.ev.warnings, 1);
    CHECK_CONTAINS(o.json.data, "\"Fault\":{\"FaultCause\":null,"
                                "\"FaultMessage\":null,\"Template\":\"true\"}");
    out_free(&o);
}

/* ====================================================================
 * Values Go rejects, merges, zero values
 * ==================================================================== */

static void test_bad_scalars_become_zero(void)
{
    struct out o;

    run(&o, ENV_HEAD "<returnval xsi:type=\"UserLogoutSessionEvent\">"
        "<key>99999999999</key><chainId>x</chainId>"
        "<createdTime>yesterday</createdTime><userName>u</userName>"
        "<callCount>1.5</callCount><loginTime>2026-13-01T00:00:00Z"
        "</loginTime></returnval>" ENV_TAIL, NULL);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_INT(o.ev.warnings, 5);
    CHECK_INT(o.ev.key, 0);
    CHECK_CONTAINS(o.json.data, "{\"Key\":0,\"ChainId\":0,\"CreatedTime\":"
                                "\"0001-01-01T00:00:00Z\"");
    CHECK_CONTAINS(o.json.data, "\"CallCount\":0,\"SessionId\":\"\","
                                "\"LoginTime\":\"0001-01-01T00:00:00Z\"}");
    {
        struct vsg_value *t = vsg_value_field(&o.ev.root, "createdTime");
        CHECK(t->flags & VSG_VALUE_F_BADTEXT);
        CHECK_STR(t->u.time.text, "yesterday");
    }
    out_free(&o);

    /* Bool and float syntax Go rejects. */
    run(&o, ENV_HEAD "<returnval xsi:type=\"EventEx\">" BASE
        "<arguments><key>b</key><value xsi:type=\"xsd:boolean\">yes</value>"
        "</arguments><arguments><key>f</key><value xsi:type=\"xsd:double\">"
        "NaN</value></arguments><arguments><key>g</key><value "
        "xsi:type=\"xsd:float\">1e39</value></arguments></returnval>" ENV_TAIL,
        NULL);
    CHECK_INT(o.ev.warnings, 3);
    CHECK_CONTAINS(o.json.data, "{\"Key\":\"b\",\"Value\":false},{\"Key\":\"f\","
                                "\"Value\":0},{\"Key\":\"g\",\"Value\":0}");
    out_free(&o);
}

static void test_created_offset(void)
{
    struct out o;

    run(&o, "<returnval xsi:type=\"VmPoweredOnEvent\"><key>1</key>"
            "<createdTime>2026-11-25T08:28:29.90055143-03:30</createdTime>"
            "</returnval>", NULL);
    CHECK_INT(o.ev.created_offset, -(3 * 3600 + 30 * 60));
    CHECK_STR(o.ev.created_text, "2026-11-25T08:28:29.90055143-03:30");
    CHECK_INT(o.ev.created.sec, INT64_C(1795607909));
    CHECK_INT(o.ev.created.nsec, 900551430);
    CHECK_CONTAINS(o.json.data,
                   "\"CreatedTime\":\"2026-11-25T08:28:29.90055143-03:30\"");
    out_free(&o);
}

/* ====================================================================
 * Limits and robustness
 * ==================================================================== */

static void test_text_limit(void)
{
    struct vsg_event_limits lim = {64, 1000, 100000, 0};
    size_t n = 5000;
    char *xml = vsg_malloc(n + 200), *p;
    struct out o;

    CHECK(xml != NULL);
    p = xml + sprintf(xml, "<returnval xsi:type=\"EventEx\">" BASE
                           "<message>");
    memset(p, 'x', n);
    strcpy(p + n, "</message></returnval>");
    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_ERR_TOOBIG);
    CHECK_CONTAINS(o.err.msg, "returnval/message");
    CHECK_CONTAINS(o.err.msg, "text too long");
    CHECK(o.ev.class_name == NULL && o.ev.root.kind == VSG_VALUE_NULL);
    out_free(&o);
    lim.max_text = n;
    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_OK);
    CHECK_INT(vsg_value_field(&o.ev.root, "message")->u.str.len, n);
    out_free(&o);
    vsg_free(xml);
}

static char *nested(size_t depth)
{
    char *xml = vsg_malloc(depth * 7 + 200), *p;

    p = xml + sprintf(xml, "<returnval xsi:type=\"EventEx\">" BASE);
    for (size_t i = 0; i < depth; i++) p += sprintf(p, "<a>");
    for (size_t i = 0; i < depth; i++) p += sprintf(p, "</a>");
    strcpy(p, "</returnval>");
    return xml;
}

static void test_depth_limit(void)
{
    struct vsg_event_limits lim = {20, 1000, 100000, 0};
    char *xml = nested(30);
    struct out o;

    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_ERR_TOOBIG);
    CHECK_CONTAINS(o.err.msg, "nested too deep");
    out_free(&o);
    vsg_free(xml);
    xml = nested(19);
    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_OK);
    out_free(&o);
    vsg_free(xml);
}

static void test_node_limit(void)
{
    struct vsg_event_limits lim = {64, 1000, 50, 0};
    size_t n = 100;
    char *xml = vsg_malloc(n * 40 + 200), *p;
    struct out o;

    p = xml + sprintf(xml, "<returnval xsi:type=\"RoleAddedEvent\">" BASE);
    for (size_t i = 0; i < n; i++) p += sprintf(p, "<privilegeList>p</privilegeList>");
    strcpy(p, "</returnval>");
    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_ERR_TOOBIG);
    CHECK_CONTAINS(o.err.msg, "too many values");
    out_free(&o);
    lim.max_nodes = 1000;
    run(&o, xml, &lim);
    CHECK_INT(o.rc, VSG_OK);
    out_free(&o);
    vsg_free(xml);
}

static void test_not_an_element(void)
{
    struct vsg_event ev;
    struct vsg_error err;
    xmlNode text = {0};

    text.type = XML_TEXT_NODE;
    CHECK_INT(vsg_event_decode(NULL, NULL, &ev, &err), VSG_ERR_INVAL);
    CHECK_INT(vsg_event_decode(&text, NULL, &ev, &err), VSG_ERR_INVAL);
    vsg_event_cleanup(&ev);
    vsg_event_cleanup(NULL);
}

/* Every allocation in turn fails: NOMEM, no leak, no crash. */
static void test_failing_allocator(void)
{
    char path[1024], *data;
    size_t len;
    xmlDoc *doc;
    xmlNode *nodes[4];
    long n;

    snprintf(path, sizeof path, "%s/edge-EventEx-scalars.soap.xml",
             VSG_EVENT_FIXTURES_DIR);
    data = evfx_read_file(path, &len);
    CHECK(data != NULL);
    doc = evfx_parse(data, len);
    vsg_free(data);
    CHECK(doc != NULL && evfx_events(doc, nodes, 4) == 1);
    for (n = 0;; n += n < 300 ? 1 : 37) {
        struct vsg_event ev;
        struct vsg_error err;
        struct vsg_buf b;
        enum vsg_err rc;
        vsg_buf_init(&b, 1 << 20);
        vsg_mem_fail_after(n);
        rc = vsg_event_decode(nodes[0], NULL, &ev, &err);
        if (rc == VSG_OK) {
            rc = vsg_event_encode_json(&ev, &b);
            if (rc == VSG_OK) rc = vsg_event_encode_xml(&ev, &b);
        }
        vsg_mem_fail_after(-1);
        vsg_buf_cleanup(&b);
        vsg_event_cleanup(&ev);
        if (rc == VSG_OK) break;
        CHECK_INT(rc, VSG_ERR_NOMEM);
    }
    CHECK(n > 100);
    xmlFreeDoc(doc);
}

static void test_output_limit(void)
{
    struct out o;
    struct vsg_buf small;

    run(&o, "<returnval xsi:type=\"VmPoweredOnEvent\">" BASE "</returnval>",
        NULL);
    vsg_buf_init(&small, 40);
    CHECK_INT(vsg_buf_puts(&small, "abc"), VSG_OK);
    CHECK_INT(vsg_event_encode_json(&o.ev, &small), VSG_ERR_TOOBIG);
    CHECK_INT(small.len, 3);
    CHECK_INT(vsg_event_encode_xml(&o.ev, &small), VSG_ERR_TOOBIG);
    CHECK_STR(small.data, "abc");
    vsg_buf_cleanup(&small);
    out_free(&o);
}

/* ====================================================================
 * Encoders on built trees
 * ==================================================================== */

static void test_builder_and_escaping(void)
{
    struct vsg_value root, *f;
    struct vsg_buf b;

    CHECK_INT(vsg_value_init_object(&root, "Thing"), VSG_OK);
    CHECK_INT(vsg_value_append(&root, "text", &f), VSG_OK);
    /* NUL, control, invalid UTF-8, surrogate, U+FFFE, U+2028, DEL. */
    CHECK_INT(vsg_value_set_string(f, "a\0\x01\x08\x0c\x1f\xff\xed\xa0\x80"
                                      "\xef\xbf\xbe\xe2\x80\xa8\x7f<>&'\"",
                                   22),
              VSG_OK);
    CHECK_INT(vsg_value_append(&root, "empty", &f), VSG_OK);
    CHECK_INT(vsg_value_set_string(f, "", 0), VSG_OK);
    f->flags = VSG_VALUE_F_OMITEMPTY;
    CHECK_INT(vsg_value_append(&root, "blob", &f), VSG_OK);
    f->flags = VSG_VALUE_F_XMLEMPTY;
    CHECK_INT(vsg_value_append(&root, "gone", &f), VSG_OK);
    CHECK_INT(vsg_value_append(&root, "bin", &f), VSG_OK);
    CHECK_INT(vsg_value_set_binary(f, "ab", 2), VSG_OK);
    CHECK_INT(vsg_value_append(&root, "list", &f), VSG_OK);
    vsg_value_set_array(f);
    f->flags = VSG_VALUE_F_OMITEMPTY;
    {
        struct vsg_value *item;
        CHECK_INT(vsg_value_append(f, NULL, &item), VSG_OK);
        item->kind = VSG_VALUE_INT, item->bits = 64, item->u.i = 0;
        CHECK_INT(vsg_value_append(f, NULL, &item), VSG_OK);
        item->kind = VSG_VALUE_INT, item->bits = 64, item->u.i = -3;
    }
    vsg_buf_init(&b, 1 << 16);
    CHECK_INT(vsg_value_encode_json(&root, &b), VSG_OK);
    CHECK_STR(b.data, "{\"Text\":\"a\\u0000\\u0001\\b\\f\\u001f\\ufffd\\ufffd"
                      "\\ufffd\\ufffd\xef\xbf\xbe\\u2028\x7f\\u003c\\u003e"
                      "\\u0026'\\\"\",\"Empty\":\"\",\"Blob\":null,\"Gone\":null,"
                      "\"Bin\":\"YWI=\",\"List\":[0,-3]}");
    vsg_buf_reset(&b);
    CHECK_INT(vsg_value_encode_xml(&root, "Thing", &b), VSG_OK);
    CHECK_STR(b.data, "<Thing><text>a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
                      "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xe2\x80\xa8\x7f"
                      "&lt;&gt;&amp;"
                      "&#39;&#34;</text><blob></blob><bin>ab</bin>"
                      "<list>-3</list></Thing>");
    vsg_buf_cleanup(&b);
    CHECK(vsg_value_field(&root, "gone") != NULL);
    CHECK(vsg_value_field(&root, "nope") == NULL);
    vsg_value_cleanup(&root);
    vsg_value_cleanup(NULL);
}

static void test_floats(void)
{
    static const struct {
        double v;
        unsigned bits;
        const char *json, *xml;
    } t[] = {
        {0.1, 64, "0.1", "0.1"},
        {1e21, 64, "1e+21", "1e+21"},
        {1e20, 64, "100000000000000000000", "1e+20"},
        {1e-7, 64, "1e-7", "1e-07"},
        {0.000001, 64, "0.000001", "1e-06"},
        {0.0001, 64, "0.0001", "0.0001"},
        {123456, 64, "123456", "123456"},
        {1234567, 64, "1234567", "1.234567e+06"},
        {-2.5e-5, 64, "-0.000025", "-2.5e-05"},
        {5e-324, 64, "5e-324", "5e-324"},
        {1e100, 64, "1e+100", "1e+100"},
        {-0.0, 64, "-0", "-0"},
        {(double)123456789.0f, 32, "123456790", "1.2345679e+08"},
        {(double)1e-45f, 32, "1e-45", "1e-45"},
        {(double)0.1f, 32, "0.1", "0.1"},
        {(double)3.4028235e38f, 32, "3.4028235e+38", "3.4028235e+38"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        struct vsg_value v = {0};
        struct vsg_buf b;
        v.kind = VSG_VALUE_DOUBLE;
        v.bits = (uint8_t)t[i].bits;
        v.u.d = t[i].v;
        vsg_buf_init(&b, 256);
        CHECK_INT(vsg_value_encode_json(&v, &b), VSG_OK);
        CHECK_STR(b.data, t[i].json);
        vsg_buf_reset(&b);
        CHECK_INT(vsg_value_encode_xml(&v, "f", &b), VSG_OK);
        b.data[b.len - 4] = '\0'; /* drop "</f>" */
        CHECK_STR(b.data + 3, t[i].xml);
        vsg_buf_cleanup(&b);
    }
}

/* Every file in spec/fixtures/events/hostile decodes (or hits the limit
 * its name says) and gives a JSON and an XML payload that parse. */
static void test_hostile_files(void)
{
    const char *dir = VSG_EVENT_FIXTURES_DIR "/hostile";
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;

    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        char path[1024], *data;
        struct out o;
        xmlDoc *x;
        if (l < 5 || strcmp(e->d_name + l - 4, ".xml") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        data = evfx_read_file(path, NULL);
        CHECK(data != NULL);
        run(&o, data, NULL);
        vsg_free(data);
        if (strncmp(e->d_name, "toobig-", 7) == 0) {
            if (o.rc != VSG_ERR_TOOBIG)
                CHECK_FAIL_("%s: rc %s", e->d_name, vsg_errname(o.rc));
        } else {
            if (o.rc != VSG_OK)
                CHECK_FAIL_("%s: %s", e->d_name, o.err.msg);
            x = evfx_parse(o.xml.data, o.xml.len);
            if (x == NULL) CHECK_FAIL_("%s: XML payload not well-formed", e->d_name);
            xmlFreeDoc(x);
        }
        out_free(&o);
        files++;
    }
    closedir(d);
    CHECK(files >= 6);
}

static void test_refresh(void)
{
    struct out o;
    struct vsg_value *tid;

    run(&o, "<returnval xsi:type=\"EventEx\">" BASE
            "<eventTypeId>a.b</eventTypeId></returnval>", NULL);
    CHECK_STR(o.ev.detail, "a.b");
    tid = vsg_value_field(&o.ev.root, "eventTypeId");
    CHECK_INT(vsg_value_set_string(tid, "c.d", 3), VSG_OK);
    CHECK_INT(vsg_event_refresh(&o.ev), VSG_OK);
    CHECK_STR(o.ev.detail, "c.d");
    out_free(&o);
}

static void test_schema(void)
{
    const struct vsg_schema_type *ev = vsg_schema_find_type("Event");
    const struct vsg_schema_type *t = vsg_schema_find_type("VmPoweredOnEvent");
    const struct vsg_schema_field *f, *all[64];

    CHECK(ev != NULL && t != NULL);
    CHECK(vsg_schema_find_type("NoSuchType") == NULL);
    CHECK(vsg_schema_find_type("") == NULL);
    CHECK(vsg_schema_type_is_a(t, ev));
    CHECK(!vsg_schema_type_is_a(ev, t));
    CHECK_STR(vsg_schema_type_name(vsg_schema_type_parent(t)), "VmEvent");
    f = vsg_schema_find_field(t, "chainId");
    CHECK(f != NULL && f->kind == VSG_SCHEMA_INT32);
    f = vsg_schema_find_field(t, "datacenter");
    CHECK(f->kind == VSG_SCHEMA_OBJECT && (f->flags & VSG_SCHEMA_F_PTR) &&
          (f->flags & VSG_SCHEMA_F_OMITEMPTY));
    CHECK_STR(vsg_schema_type_name(vsg_schema_type_at(f->type)),
              "DatacenterEventArgument");
    CHECK_INT(vsg_schema_flatten(t, all, 64), 14);
    CHECK_STR(vsg_schema_field_name(all[0]), "key");
    CHECK_STR(vsg_schema_field_name(all[13]), "template");
    CHECK(vsg_schema_find_field(t, "nope") == NULL);
    f = vsg_schema_find_field(vsg_schema_find_type("RoleAddedEvent"),
                              "privilegeList");
    CHECK(f->kind == VSG_SCHEMA_STRING && (f->flags & VSG_SCHEMA_F_ARRAY));
    f = vsg_schema_find_field(vsg_schema_find_type("KeyAnyValue"), "value");
    CHECK(f->kind == VSG_SCHEMA_ANY);
    CHECK(vsg_schema_vim25.ntypes > 3000 && vsg_schema_vim25.nfields > 7000);
    /* Sorted, so binary search finds every type. For every type, the field
     * at each flattened index is the flattening's, and the search by name
     * gives that index back (no field name repeats along a type's parents,
     * which the decoder's in-order hint relies on). */
    size_t checked = 0;
    for (size_t i = 0; i < vsg_schema_vim25.ntypes; i++) {
        const struct vsg_schema_type *ti = &vsg_schema_vim25.types[i];
        const struct vsg_schema_field *flat[VSG_SCHEMA_MAX_FIELDS];
        size_t n = vsg_schema_flatten(ti, flat, VSG_SCHEMA_MAX_FIELDS);
        CHECK(vsg_schema_find_type(vsg_schema_type_name(ti)) == ti);
        for (size_t k = 0; k < n && k < VSG_SCHEMA_MAX_FIELDS; k++) {
            size_t at = SIZE_MAX;
            if (vsg_schema_field_at_index(ti, k) != flat[k] ||
                vsg_schema_find_field_at(ti, vsg_schema_field_name(flat[k]), &at) != flat[k] ||
                at != k) {
                fprintf(stderr, "  %s field %zu (%s)\n", vsg_schema_type_name(ti), k,
                        vsg_schema_field_name(flat[k]));
                CHECK(0);
            }
            checked++;
        }
        CHECK(vsg_schema_field_at_index(ti, n) == NULL);
    }
    CHECK(checked > 7000);
    CHECK(vsg_schema_field_at_index(t, 0) == all[0]);
    CHECK(vsg_schema_field_at_index(t, 13) == all[13]);
    CHECK(vsg_schema_field_at_index(t, 14) == NULL);
}

TEST_LIST = {
    {"unknown_class", test_unknown_class},
    {"unknown_fields_on_known_class", test_unknown_fields_on_known_class},
    {"event_classes", test_event_classes},
    {"xml_payload_round_trip", test_xml_payload_round_trip},
    {"plain_returnval", test_plain_returnval},
    {"xsi_type_by_namespace", test_xsi_type_by_namespace},
    {"interfaces", test_interfaces},
    {"bad_scalars_become_zero", test_bad_scalars_become_zero},
    {"created_offset", test_created_offset},
    {"text_limit", test_text_limit},
    {"depth_limit", test_depth_limit},
    {"node_limit", test_node_limit},
    {"not_an_element", test_not_an_element},
    {"failing_allocator", test_failing_allocator},
    {"output_limit", test_output_limit},
    {"builder_and_escaping", test_builder_and_escaping},
    {"floats", test_floats},
    {"hostile_files", test_hostile_files},
    {"refresh", test_refresh},
    {"schema", test_schema},
    {NULL, NULL},
};
TEST_MAIN()
