package connector

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/schulit/cmdb/plugins/connector/proto"
)

// grpcPlugin is the go-plugin glue of protocol version 1: gRPC only.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Connector // nil on the host side
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterConnectorServer(s, &grpcServer{impl: p.impl})
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &grpcClient{rpc: pb.NewConnectorClient(c)}, nil
}

// grpcServer runs in the connector process and calls its Connector.
type grpcServer struct {
	pb.UnimplementedConnectorServer
	impl Connector
}

// serverError turns a connector's error into a gRPC status the host can
// tell apart: unsupported, cancelled, or a message from the connector.
func serverError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrUnsupported):
		return status.Error(codes.Unimplemented, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	return status.Error(codes.Unknown, err.Error())
}

func (s *grpcServer) Describe(ctx context.Context, _ *pb.DescribeRequest) (*pb.Description, error) {
	d, err := s.impl.Describe(ctx)
	if err != nil {
		return nil, serverError(err)
	}
	return descriptionToPB(d), nil
}

func (s *grpcServer) Check(ctx context.Context, c *pb.Config) (*pb.CheckResult, error) {
	r, err := s.impl.Check(ctx, configFromPB(c))
	if err != nil {
		return nil, serverError(err)
	}
	return checkToPB(r), nil
}

func (s *grpcServer) Pull(req *pb.PullRequest, stream grpc.ServerStreamingServer[pb.RecordBatch]) error {
	// The connector's ExpectTotal goes out with the next message; it may
	// call it from a goroutine of its own.
	var total atomic.Int64
	ctx := WithExpectTotal(stream.Context(), func(n int) { total.Store(int64(n)) })
	err := s.impl.Pull(ctx, configFromPB(req.GetConfig()), func(batch []Record) error {
		// Split whatever the connector hands over into messages of at
		// most MaxBatch records, so that no message grows with the source.
		for len(batch) > 0 {
			n := min(len(batch), MaxBatch)
			msg := &pb.RecordBatch{Records: make([]*pb.Record, n), ExpectedTotal: total.Swap(0)}
			for i := range n {
				msg.Records[i] = recordToPB(batch[i])
			}
			if err := stream.Send(msg); err != nil {
				return err
			}
			batch = batch[n:]
		}
		return nil
	})
	return serverError(err)
}

func (s *grpcServer) Push(ctx context.Context, req *pb.PushRequest) (*pb.PushResult, error) {
	changes := make([]Change, len(req.GetChanges()))
	for i, c := range req.GetChanges() {
		changes[i] = changeFromPB(c)
	}
	r, err := s.impl.Push(ctx, configFromPB(req.GetConfig()), changes)
	if err != nil {
		return nil, serverError(err)
	}
	return pushResultToPB(r), nil
}

// grpcClient runs in the host and is a Connector backed by the plugin.
// Errors are gRPC statuses; guarded turns them into words.
type grpcClient struct {
	rpc pb.ConnectorClient
}

func (c *grpcClient) Describe(ctx context.Context) (Description, error) {
	d, err := c.rpc.Describe(ctx, &pb.DescribeRequest{})
	if err != nil {
		return Description{}, clientError(err)
	}
	return descriptionFromPB(d), nil
}

func (c *grpcClient) Check(ctx context.Context, cfg Config) (CheckResult, error) {
	r, err := c.rpc.Check(ctx, configToPB(cfg))
	if err != nil {
		return CheckResult{}, clientError(err)
	}
	return checkFromPB(r), nil
}

func (c *grpcClient) Pull(ctx context.Context, cfg Config, emit func([]Record) error) error {
	// Cancelling on return stops the connector when emit fails.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Pull(ctx, &pb.PullRequest{Config: configToPB(cfg)})
	if err != nil {
		return clientError(err)
	}
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return clientError(err)
		}
		if t := msg.GetExpectedTotal(); t > 0 {
			ExpectTotal(ctx, int(t))
		}
		batch := make([]Record, len(msg.GetRecords()))
		for i, r := range msg.GetRecords() {
			batch[i] = recordFromPB(r)
		}
		if err := emit(batch); err != nil {
			return err
		}
	}
}

func (c *grpcClient) Push(ctx context.Context, cfg Config, changes []Change) (PushResult, error) {
	req := &pb.PushRequest{Config: configToPB(cfg), Changes: make([]*pb.Change, len(changes))}
	for i, ch := range changes {
		req.Changes[i] = changeToPB(ch)
	}
	r, err := c.rpc.Push(ctx, req)
	if err != nil {
		return PushResult{}, clientError(err)
	}
	return pushResultFromPB(r), nil
}

// RemoteError is an error the connector itself returned, carried over the
// wire as text.
type RemoteError struct{ Message string }

func (e *RemoteError) Error() string { return e.Message }

// clientError maps a gRPC status back onto the contract's errors.
func clientError(err error) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.Unimplemented:
		return ErrUnsupported
	case codes.Canceled:
		return context.Canceled
	case codes.DeadlineExceeded:
		return context.DeadlineExceeded
	case codes.Unknown:
		return &RemoteError{Message: st.Message()}
	case codes.Unavailable, codes.Internal:
		return &transportError{msg: st.Message()}
	}
	return &RemoteError{Message: st.Message()}
}

// transportError means the connection to the plugin broke or carried
// something that was not the protocol.
type transportError struct{ msg string }

func (e *transportError) Error() string { return "connection to the connector broke: " + e.msg }
