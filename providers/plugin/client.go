package plugin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
	pb "github.com/fabrica-iac/fabrica/providers/proto/v1"
)

// NewGRPCClient returns a providers.Provider that calls the provider served on conn.
// name is the provider's name, used in every error the transport causes. Launch does
// this for a plugin process; tests and in-process harnesses may call it directly.
func NewGRPCClient(name string, conn grpc.ClientConnInterface) providers.Provider {
	return newGRPCClient(name, conn)
}

func newGRPCClient(name string, conn grpc.ClientConnInterface) *grpcClient {
	return &grpcClient{name: name, client: pb.NewProviderClient(conn)}
}

// grpcClient implements providers.Provider over the protocol. Each call carries its
// caller's context, so cancellation and deadlines reach the plugin.
type grpcClient struct {
	name   string
	client pb.ProviderClient
	// exited, when set, reports why the plugin process is gone, or nil while it runs.
	// Launch sets it; a transport failure consults it to blame a crashed process.
	exited func() error
	// applies counts the Apply streams in flight, for Shutdown.
	applies tracker
}

var _ providers.Provider = (*grpcClient)(nil)

// failure turns a transport error of call op into the error the caller sees: the
// context's own error when the caller gave up, the plugin process's exit when it
// crashed, and otherwise the gRPC error, always naming the provider.
func (c *grpcClient) failure(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("provider %q: %s: %w", c.name, op, ctxErr)
	}
	if c.exited != nil {
		if exitErr := c.exited(); exitErr != nil {
			return fmt.Errorf("%w (during %s)", exitErr, op)
		}
	}
	return fmt.Errorf("provider %q: %s: %w", c.name, op, err)
}

// failureDiags is failure as diagnostics, for the calls that return no error.
func (c *grpcClient) failureDiags(ctx context.Context, op string, err error) []providers.Diagnostic {
	return []providers.Diagnostic{providers.Errorf("", "Provider failed", c.failure(ctx, op, err).Error())}
}

// countDiags checks that a batch call returned one result per item.
func (c *grpcClient) countDiags(op string, got, want int) []providers.Diagnostic {
	if got == want {
		return nil
	}
	detail := fmt.Sprintf("Provider %q returned %d results to %s %d instances; it must return one per instance, in order. This is a bug in the provider.", c.name, got, op, want)
	return []providers.Diagnostic{providers.Errorf("", "Provider returned a wrong number of results", detail)}
}

// Info implements providers.Provider.
func (c *grpcClient) Info(ctx context.Context) (providers.InfoResponse, error) {
	resp, err := c.client.Info(ctx, &pb.InfoRequest{})
	if err != nil {
		return providers.InfoResponse{}, c.failure(ctx, "info", err)
	}
	if resp.GetError() != "" {
		return infoFromProto(resp), fmt.Errorf("provider %q: info: %s", c.name, resp.GetError())
	}
	return infoFromProto(resp), nil
}

// Configure implements providers.Provider.
func (c *grpcClient) Configure(ctx context.Context, req providers.ConfigureRequest) providers.ConfigureResponse {
	resp, err := c.client.Configure(ctx, &pb.ConfigureRequest{Config: req.Config, WorkDir: req.WorkDir})
	if err != nil {
		return providers.ConfigureResponse{Diagnostics: c.failureDiags(ctx, "configure", err)}
	}
	return providers.ConfigureResponse{Diagnostics: diagsFromProto(resp.GetDiagnostics())}
}

// Import implements providers.Provider.
func (c *grpcClient) Import(ctx context.Context, req providers.ImportRequest) providers.ImportResponse {
	resp, err := c.client.Import(ctx, &pb.ImportRequest{Kind: req.Kind, Id: req.ID})
	if err != nil {
		return providers.ImportResponse{Diagnostics: c.failureDiags(ctx, "import", err)}
	}
	return providers.ImportResponse{Attrs: attrs(resp.GetAttrs()), Diagnostics: diagsFromProto(resp.GetDiagnostics())}
}

// Stop implements providers.Provider.
func (c *grpcClient) Stop(ctx context.Context) error {
	resp, err := c.client.Stop(ctx, &pb.StopRequest{})
	if err != nil {
		return c.failure(ctx, "stop", err)
	}
	if resp.GetError() != "" {
		return fmt.Errorf("provider %q: stop: %s", c.name, resp.GetError())
	}
	return nil
}

// sendAll streams a batch in chunks and closes the sending side; msg makes a chunk's
// message, first telling whether it is the first. A send that fails because the server
// ended the stream (io.EOF) is not the error: the receive that follows reports the
// stream's status.
func sendAll[T any, M any](stream grpc.ClientStream, items []T, size func(*T) int, msg func(chunk []T, first bool) *M) error {
	first := true
	err := eachChunk(items, size, func(chunk []T) error {
		m := msg(chunk, first)
		first = false
		return stream.SendMsg(m)
	})
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return stream.CloseSend()
}

// Read implements providers.Provider: the items go out in chunks, the results come back
// in chunks, in order.
func (c *grpcClient) Read(ctx context.Context, req providers.ReadRequest) providers.ReadResponse {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Read(callCtx)
	if err == nil {
		err = sendAll(stream, req.Items, readItemSize, func(items []providers.ReadItem, first bool) *pb.ReadRequest {
			m := &pb.ReadRequest{Items: readItemsToProto(items)}
			if first {
				m.BatchSize = int64(len(req.Items))
			}
			return m
		})
	}
	if err != nil {
		return providers.ReadResponse{Diagnostics: c.failureDiags(ctx, "read", err)}
	}
	out := providers.ReadResponse{Results: make([]providers.ReadResult, 0, len(req.Items))}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return providers.ReadResponse{Diagnostics: c.failureDiags(ctx, "read", err)}
		}
		out.Results = readResultsFromProto(out.Results, resp.GetResults())
		out.Diagnostics = append(out.Diagnostics, diagsFromProto(resp.GetDiagnostics())...)
	}
	out.Diagnostics = append(out.Diagnostics, c.countDiags("read", len(out.Results), len(req.Items))...)
	return out
}

// Plan implements providers.Provider, as Read does.
func (c *grpcClient) Plan(ctx context.Context, req providers.PlanRequest) providers.PlanResponse {
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Plan(callCtx)
	if err == nil {
		err = sendAll(stream, req.Items, planItemSize, func(items []providers.PlanItem, first bool) *pb.PlanRequest {
			m := &pb.PlanRequest{Items: planItemsToProto(items)}
			if first {
				m.BatchSize = int64(len(req.Items))
			}
			return m
		})
	}
	if err != nil {
		return providers.PlanResponse{Diagnostics: c.failureDiags(ctx, "plan", err)}
	}
	out := providers.PlanResponse{Changes: make([]providers.PlannedChange, 0, len(req.Items))}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return providers.PlanResponse{Diagnostics: c.failureDiags(ctx, "plan", err)}
		}
		out.Changes = plannedFromProto(out.Changes, resp.GetChanges())
		out.Diagnostics = append(out.Diagnostics, diagsFromProto(resp.GetDiagnostics())...)
	}
	out.Diagnostics = append(out.Diagnostics, c.countDiags("plan", len(out.Changes), len(req.Items))...)
	return out
}

// Apply implements providers.Provider. A goroutine forwards the changes the caller
// releases, batching those already queued, and closes the sending side when changes is
// closed; this goroutine passes events on until the server ends the stream, which it
// does once the provider's Apply has returned. If the plugin fails meanwhile, Apply
// returns the failure (naming the provider); changes not yet reported are then lost, as
// the interface says.
func (c *grpcClient) Apply(ctx context.Context, changes <-chan providers.Change, events chan<- providers.Event) error {
	defer c.applies.begin()()
	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.client.Apply(callCtx)
	if err != nil {
		return c.failure(ctx, "apply", err)
	}
	sent := make(chan error, 1)
	go func() { sent <- sendChanges(callCtx, stream, changes) }()
	// stop ends the sender: Apply never reads changes after it returns.
	stop := func() { cancel(); <-sent }

	var provErr error
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			stop()
			return c.failure(ctx, "apply", err)
		}
		for _, e := range resp.GetEvents() {
			select {
			case events <- eventFromProto(e):
			case <-ctx.Done():
				stop()
				return fmt.Errorf("provider %q: apply: %w", c.name, ctx.Err())
			}
		}
		if msg := resp.GetError(); msg != "" {
			provErr = fmt.Errorf("provider %q: apply: %s", c.name, msg)
		}
	}
	stop()
	return provErr
}

// sendChanges forwards changes to the stream until changes is closed (then it closes
// the sending side) or ctx ends.
func sendChanges(ctx context.Context, stream grpc.BidiStreamingClient[pb.ApplyRequest, pb.ApplyResponse], changes <-chan providers.Change) error {
	for {
		var first providers.Change
		var ok bool
		select {
		case first, ok = <-changes:
		case <-ctx.Done():
			return ctx.Err()
		}
		if !ok {
			return stream.CloseSend()
		}
		batch := drain(changes, []providers.Change{first})
		err := eachChunk(batch, changeSize, func(cs []providers.Change) error {
			msgs := make([]*pb.Change, len(cs))
			for i, c := range cs {
				msgs[i] = changeToProto(c)
			}
			return stream.Send(&pb.ApplyRequest{Changes: msgs})
		})
		if err != nil {
			return err // io.EOF: the server ended the stream; Recv reports why
		}
	}
}

// tracker counts operations in flight and lets one wait until there are none.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0
}

// begin counts one operation in; the returned function counts it out.
func (t *tracker) begin() func() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			t.n--
			if t.n == 0 {
				close(t.idle)
			}
			t.mu.Unlock()
		})
	}
}

// wait reports whether the operations in flight all ended within timeout.
func (t *tracker) wait(timeout time.Duration) bool {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return true
	}
	idle := t.idle
	t.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-idle:
		return true
	case <-timer.C:
		return false
	}
}
