// Command oracle prints, for every event of a vSphere ReadNextEvents SOAP
// response, the CloudEvent data payload the Go VSphereSource adapter
// (vmware-tanzu/sources-for-knative) produced for it: the response is
// decoded exactly as govmomi's soap.Client.RoundTrip does (vim25/xml decoder
// with types.TypeFunc() into methods.ReadNextEventsBody), and each event is
// encoded as the cloudevents sdk-go datacodecs do: encoding/json.Marshal for
// application/json, encoding/xml.Marshal for application/xml.
//
//	oracle -mode json|xml|meta FILE...
//
// One line per event. "meta" prints "<eventclass>\t<X>" where X is what the
// adapter put into the CloudEvent type com.vmware.vsphere.<X>.v0
// (getEventDetails in pkg/vsphere/vsphere.go). Any decode or encode failure
// is printed on stderr with exit status 1.
//
// Test-only: vsgate's golden files under spec/fixtures/events are produced
// by this program (spec/fixtures/events/regen.sh).
package main

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"reflect"

	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
	vxml "github.com/vmware/govmomi/vim25/xml"
)

func decode(path string) ([]types.BaseEvent, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	body := &methods.ReadNextEventsBody{}
	env := soap.Envelope{Body: body}
	dec := vxml.NewDecoder(f)
	dec.TypeFunc = types.TypeFunc()
	if err := dec.Decode(&env); err != nil {
		return nil, err
	}
	if body.Fault_ != nil {
		return nil, soap.WrapSoapFault(body.Fault_)
	}
	if body.Res == nil {
		return nil, fmt.Errorf("no ReadNextEventsResponse in %s", path)
	}
	return body.Res.Returnval, nil
}

// details mirrors getEventDetails of the Go adapter.
func details(e types.BaseEvent) (string, string) {
	switch ev := e.(type) {
	case *types.EventEx:
		return "eventex", ev.EventTypeId
	case *types.ExtendedEvent:
		return "extendedevent", ev.EventTypeId
	default:
		return "event", reflect.TypeOf(e).Elem().Name()
	}
}

func main() {
	mode := flag.String("mode", "json", "json, xml or meta")
	flag.Parse()
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for _, path := range flag.Args() {
		events, err := decode(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "oracle: %s: decode: %v\n", path, err)
			os.Exit(1)
		}
		for i, e := range events {
			if e == nil {
				fmt.Fprintf(os.Stderr, "oracle: %s: event %d: unknown xsi:type (nil)\n", path, i)
				os.Exit(1)
			}
			var b []byte
			switch *mode {
			case "json":
				b, err = json.Marshal(e)
			case "xml":
				b, err = xml.Marshal(e)
			case "meta":
				class, x := details(e)
				b = []byte(class + "\t" + x)
			default:
				fmt.Fprintf(os.Stderr, "oracle: unknown -mode %q\n", *mode)
				os.Exit(2)
			}
			if err != nil {
				fmt.Fprintf(os.Stderr, "oracle: %s: event %d: %s: %v\n", path, i, *mode, err)
				os.Exit(1)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
}
