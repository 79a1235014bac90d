package plugin

import (
	"context"
	"errors"
	"io"

	"google.golang.org/grpc"

	"github.com/fabrica-iac/fabrica/providers"
	pb "github.com/fabrica-iac/fabrica/providers/proto/v1"
)

// NewGRPCServer returns the gRPC service that serves p: what a plugin process registers.
// Serve does this; tests and in-process harnesses may register it themselves.
func NewGRPCServer(p providers.Provider) pb.ProviderServer {
	return &grpcServer{impl: p}
}

// grpcServer adapts a providers.Provider to the protocol's service. Every provider error
// travels inside a response; the handlers return a gRPC error only when the stream
// itself failed.
type grpcServer struct {
	pb.UnimplementedProviderServer
	impl providers.Provider
}

func (s *grpcServer) Info(ctx context.Context, _ *pb.InfoRequest) (*pb.InfoResponse, error) {
	resp, err := s.impl.Info(ctx)
	out := infoToProto(resp)
	if err != nil {
		out.Error = err.Error()
	}
	return out, nil
}

func (s *grpcServer) Configure(ctx context.Context, req *pb.ConfigureRequest) (*pb.ConfigureResponse, error) {
	resp := s.impl.Configure(ctx, providers.ConfigureRequest{Config: attrs(req.GetConfig()), WorkDir: req.GetWorkDir()})
	return &pb.ConfigureResponse{Diagnostics: diagsToProto(resp.Diagnostics)}, nil
}

func (s *grpcServer) Import(ctx context.Context, req *pb.ImportRequest) (*pb.ImportResponse, error) {
	resp := s.impl.Import(ctx, providers.ImportRequest{Kind: req.GetKind(), ID: req.GetId()})
	return &pb.ImportResponse{Attrs: resp.Attrs, Diagnostics: diagsToProto(resp.Diagnostics)}, nil
}

func (s *grpcServer) Stop(ctx context.Context, _ *pb.StopRequest) (*pb.StopResponse, error) {
	if err := s.impl.Stop(ctx); err != nil {
		return &pb.StopResponse{Error: err.Error()}, nil
	}
	return &pb.StopResponse{}, nil
}

// Read gathers the request chunks into one batch, calls the provider once, and streams
// the results back in chunks, then the response's diagnostics.
func (s *grpcServer) Read(stream grpc.BidiStreamingServer[pb.ReadRequest, pb.ReadResponse]) error {
	items, err := gather(stream.Recv, (*pb.ReadRequest).GetBatchSize,
		func(items []providers.ReadItem, req *pb.ReadRequest) []providers.ReadItem {
			return readItemsFromProto(items, req.GetItems())
		})
	if err != nil {
		return err
	}
	resp := s.impl.Read(stream.Context(), providers.ReadRequest{Items: items})
	err = eachChunk(resp.Results, readResultSize, func(rs []providers.ReadResult) error {
		return stream.Send(&pb.ReadResponse{Results: readResultsToProto(rs)})
	})
	if err != nil {
		return err
	}
	return eachChunk(resp.Diagnostics, diagSize, func(ds []providers.Diagnostic) error {
		return stream.Send(&pb.ReadResponse{Diagnostics: diagsToProto(ds)})
	})
}

// Plan is Read's counterpart for PlanRequest.
func (s *grpcServer) Plan(stream grpc.BidiStreamingServer[pb.PlanRequest, pb.PlanResponse]) error {
	items, err := gather(stream.Recv, (*pb.PlanRequest).GetBatchSize,
		func(items []providers.PlanItem, req *pb.PlanRequest) []providers.PlanItem {
			return planItemsFromProto(items, req.GetItems())
		})
	if err != nil {
		return err
	}
	resp := s.impl.Plan(stream.Context(), providers.PlanRequest{Items: items})
	err = eachChunk(resp.Changes, plannedSize, func(cs []providers.PlannedChange) error {
		return stream.Send(&pb.PlanResponse{Changes: plannedToProto(cs)})
	})
	if err != nil {
		return err
	}
	return eachChunk(resp.Diagnostics, diagSize, func(ds []providers.Diagnostic) error {
		return stream.Send(&pb.PlanResponse{Diagnostics: diagsToProto(ds)})
	})
}

// Apply runs the provider's Apply for the length of the stream: changes received are
// handed to it one by one (so it sees them as the caller released them), and its events
// are sent back in batches of whatever has queued up, so a fast provider costs one
// message per many events and a slow one adds no latency. When the client closes its
// side, the changes channel is closed; when the provider returns, a final message
// carries its error, if any, and the stream ends.
func (s *grpcServer) Apply(stream grpc.BidiStreamingServer[pb.ApplyRequest, pb.ApplyResponse]) error {
	ctx := stream.Context()
	changes := make(chan providers.Change)
	events := make(chan providers.Event, 256)
	applied := make(chan struct{})
	var applyErr error
	go func() {
		defer close(events)
		defer close(applied)
		applyErr = s.impl.Apply(ctx, changes, events)
	}()
	go func() {
		defer close(changes)
		for {
			req, err := stream.Recv()
			if err != nil {
				// io.EOF: the client has sent every change. Anything else: the client is
				// gone and ctx is canceled; the provider sees that.
				return
			}
			for _, c := range req.GetChanges() {
				select {
				case changes <- changeFromProto(c):
				case <-applied:
					return
				}
			}
		}
	}()

	var sendErr error
	for ev := range events {
		if sendErr != nil {
			continue // drain, so the provider never blocks on a dead stream
		}
		batch := []providers.Event{ev}
		batch = drain(events, batch)
		sendErr = eachChunk(batch, eventSize, func(es []providers.Event) error {
			msgs := make([]*pb.Event, len(es))
			for i, e := range es {
				msgs[i] = eventToProto(e)
			}
			return stream.Send(&pb.ApplyResponse{Events: msgs})
		})
	}
	<-applied
	if sendErr != nil {
		return sendErr
	}
	if applyErr != nil {
		return stream.Send(&pb.ApplyResponse{Error: applyErr.Error()})
	}
	return nil
}

// gather reads a batch request's chunks until the client closes its side, sizing the
// items once from the first chunk's batch size hint.
func gather[Req any, T any](recv func() (*Req, error), batchSize func(*Req) int64, add func([]T, *Req) []T) ([]T, error) {
	var items []T
	for {
		req, err := recv()
		if errors.Is(err, io.EOF) {
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		if items == nil {
			items = make([]T, 0, capHint(batchSize(req)))
		}
		items = add(items, req)
	}
}

// capHint bounds a client's batch size hint by what a sane batch holds, so a bogus
// hint cannot make the server allocate gigabytes up front.
func capHint(n int64) int {
	return int(min(max(n, 0), 1<<22))
}

// drain appends to batch what ch holds right now, without waiting, up to a chunk's
// worth of items.
func drain[T any](ch <-chan T, batch []T) []T {
	for len(batch) < maxChunkItems {
		select {
		case v, ok := <-ch:
			if !ok {
				return batch
			}
			batch = append(batch, v)
		default:
			return batch
		}
	}
	return batch
}
