package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/fabrica-iac/fabrica/providers"
)

// fakeProvider is a small deterministic provider for the tests. What it does depends on
// the input:
//   - Configure: {"bad": true} is an error on attribute "bad"; {"print": "x"} prints x on
//     stdout; every call logs "configured" at debug level.
//   - Read: an empty ID is gone; a PriorHash equal to the actual hash is unchanged; the
//     ID "diag" carries a warning.
//   - Plan: creates have "id" unknown; a change of "zone" requires replacement.
//   - Apply: every change runs in its own goroutine: started, progress "provision",
//     then done, or failed when its address contains "fail". Kind "fake_slow" waits
//     for Stop (then fails) or for ctx. Address "boom" makes Apply return an error,
//     "crash" crashes the process with a panic.
//   - Import: ID "missing" is an error.
type fakeProvider struct {
	infoErr error

	stopOnce sync.Once
	stopped  chan struct{}
	// canceled is closed when a slow change sees its context canceled.
	cancelOnce sync.Once
	canceled   chan struct{}
}

func newFake() *fakeProvider {
	return &fakeProvider{stopped: make(chan struct{}), canceled: make(chan struct{})}
}

func (f *fakeProvider) Info(context.Context) (providers.InfoResponse, error) {
	return providers.InfoResponse{
		Name:    "fake",
		Version: "1.2.3",
		Kinds:   []string{"fake_thing", "fake_slow"},
		Config: []providers.ConfigAttr{
			{Name: "bad", Type: "bool", Doc: "Fail configuration."},
			{Name: "print", Type: "string", Required: false, Doc: "Print this on stdout."},
		},
		Sensitive: map[string][]string{"fake_thing": {"token", "password"}},
	}, f.infoErr
}

func (f *fakeProvider) Configure(_ context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	var cfg struct {
		Bad   bool   `json:"bad"`
		Print string `json:"print"`
	}
	hclog.Default().Debug("configured", "work_dir", req.WorkDir)
	if err := json.Unmarshal(req.Config, &cfg); err != nil {
		return providers.ConfigureResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Invalid configuration", err.Error())}}
	}
	if cfg.Print != "" {
		fmt.Println(cfg.Print)
	}
	if cfg.Bad {
		return providers.ConfigureResponse{Diagnostics: []providers.Diagnostic{
			providers.Errorf("bad", "Bad configuration", "The fake provider was asked to fail."),
			{Severity: providers.SeverityWarning, Summary: "Deprecated", Detail: "Just a warning."},
		}}
	}
	return providers.ConfigureResponse{}
}

// actual is the attributes the fake reads for ID id; pad makes them big enough that
// 100,000 of them exceed gRPC's 4 MiB message limit several times over.
func actual(id string) providers.Attrs {
	return providers.Attrs(`{"id":"` + id + `","pad":"` + strings.Repeat("x", 40) + `"}`)
}

func (f *fakeProvider) Read(_ context.Context, req providers.ReadRequest) providers.ReadResponse {
	var resp providers.ReadResponse
	for _, it := range req.Items {
		r := providers.ReadResult{Address: it.Address}
		switch a := actual(it.ID); {
		case it.ID == "":
			r.Gone = true
		case providers.AttrsHash(a) == it.PriorHash:
			r.Unchanged = true
		default:
			r.Attrs, r.Hash = a, providers.AttrsHash(a)
		}
		if it.ID == "diag" {
			r.Diagnostics = []providers.Diagnostic{{Severity: providers.SeverityWarning, Summary: "Odd", Detail: "An odd item.", Attribute: "id"}}
		}
		resp.Results = append(resp.Results, r)
	}
	resp.Diagnostics = []providers.Diagnostic{{Severity: providers.SeverityWarning, Summary: "Read done", Detail: fmt.Sprintf("%d items.", len(req.Items))}}
	return resp
}

func (f *fakeProvider) Plan(_ context.Context, req providers.PlanRequest) providers.PlanResponse {
	var resp providers.PlanResponse
	for _, it := range req.Items {
		c := providers.PlannedChange{Address: it.Address, Planned: it.Desired}
		if it.Prior == nil {
			c.Unknown = []string{"id"}
		}
		var prior, desired struct{ Zone string }
		_ = json.Unmarshal(it.Prior, &prior)
		_ = json.Unmarshal(it.Desired, &desired)
		if it.Prior != nil && it.Desired != nil && prior.Zone != desired.Zone {
			c.RequiresReplace = []string{"zone"}
		}
		resp.Changes = append(resp.Changes, c)
	}
	return resp
}

func (f *fakeProvider) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for c := range changes {
		switch c.Address {
		case "boom":
			return errors.New("backend unreachable")
		case "crash":
			go func() { panic("fake provider crashed") }()
			select {} // never finish the apply first: the process dies with the panic
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.applyOne(ctx, c, events)
		}()
	}
	return nil
}

func (f *fakeProvider) applyOne(ctx context.Context, c providers.Change, events chan<- providers.Event) {
	events <- providers.Event{Address: c.Address, Type: providers.EventStarted}
	events <- providers.Event{Address: c.Address, Type: providers.EventProgress, Stage: "provision", Message: "provisioning " + string(c.Action)}
	if c.Kind == "fake_slow" {
		select {
		case <-f.stopped:
			events <- providers.Event{Address: c.Address, Type: providers.EventFailed, Diagnostics: []providers.Diagnostic{providers.Errorf("", "Stopped", "Apply was stopped.")}}
		case <-ctx.Done():
			f.cancelOnce.Do(func() { close(f.canceled) })
			events <- providers.Event{Address: c.Address, Type: providers.EventFailed, Diagnostics: []providers.Diagnostic{providers.Errorf("", "Canceled", ctx.Err().Error())}}
		}
		return
	}
	if strings.Contains(c.Address, "fail") {
		events <- providers.Event{Address: c.Address, Type: providers.EventFailed, ID: "partial-" + c.Address, New: c.Planned,
			Diagnostics: []providers.Diagnostic{providers.Errorf("size", "Create failed", "No capacity.")}}
		return
	}
	done := providers.Event{Address: c.Address, Type: providers.EventDone, ID: "id-" + c.Address, New: c.Planned}
	if c.Action == providers.ActionUpdate || c.Action == providers.ActionDelete {
		done.ID = c.ID
	}
	events <- done
}

func (f *fakeProvider) Import(_ context.Context, req providers.ImportRequest) providers.ImportResponse {
	if req.ID == "missing" {
		return providers.ImportResponse{Diagnostics: []providers.Diagnostic{providers.Errorf("", "Object not found", "No "+req.Kind+" with ID "+req.ID+".")}}
	}
	return providers.ImportResponse{Attrs: providers.Attrs(`{"id":"` + req.ID + `","kind":"` + req.Kind + `"}`)}
}

func (f *fakeProvider) Stop(context.Context) error {
	f.stopOnce.Do(func() { close(f.stopped) })
	return nil
}

// servePluginEnv, when set, makes the test binary serve the fake provider (TestMain).
const servePluginEnv = "FABRICA_TEST_SERVE_FAKE_PROVIDER"

// maybeServe serves the fake provider and exits when the test binary runs as a plugin.
func maybeServe() {
	if os.Getenv(servePluginEnv) != "1" {
		return
	}
	Serve(newFake())
	os.Exit(0)
}
