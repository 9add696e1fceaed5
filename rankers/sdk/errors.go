package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Errors a Ranker returns, wrapped with context. They cross the process
// boundary as gRPC status codes and come out of Client as the same
// sentinels, so errors.Is works on the host side.
var (
	// ErrBadInput means the caller asked something invalid: K < 1, an index
	// out of range, a malformed dataset or hyperparameter. Retrying or
	// asking another ranker will not help. (gRPC InvalidArgument.)
	ErrBadInput = errors.New("bad input")

	// ErrNotTrained means the ranker has no model yet: call Train or Load.
	// (gRPC FailedPrecondition.)
	ErrNotTrained = errors.New("not trained")

	// ErrUnknownUser means the ranker cannot rank for this user: it was not
	// in the training data and the query has no usable History. A fallback
	// ranker may still answer. (gRPC NotFound.)
	ErrUnknownUser = errors.New("unknown user")

	// ErrUnsupported means the ranker lacks the capability the call needs.
	// (gRPC Unimplemented.)
	ErrUnsupported = errors.New("unsupported")
)

// sentinels pairs each sentinel with its gRPC code.
var sentinels = []struct {
	err  error
	code codes.Code
}{
	{ErrBadInput, codes.InvalidArgument},
	{ErrNotTrained, codes.FailedPrecondition},
	{ErrUnknownUser, codes.NotFound},
	{ErrUnsupported, codes.Unimplemented},
}

// toStatus turns a Ranker's error into a gRPC status error.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return status.Error(s.code, err.Error())
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// fromStatus turns a gRPC error from a ranker back into an error that
// matches the sentinels (and the context errors, for deadlines).
func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	return fromCode(st.Code(), st.Message(), err)
}

func fromCode(code codes.Code, msg string, orig error) error {
	for _, s := range sentinels {
		if s.code == code {
			return &remoteError{sentinel: s.err, msg: msg}
		}
	}
	switch code {
	case codes.DeadlineExceeded:
		return &remoteError{sentinel: context.DeadlineExceeded, msg: msg}
	case codes.Canceled:
		return &remoteError{sentinel: context.Canceled, msg: msg}
	}
	if orig == nil {
		orig = status.Error(code, msg)
	}
	return orig
}

// remoteError is an error that happened inside a ranker process.
type remoteError struct {
	sentinel error
	msg      string
}

func (e *remoteError) Error() string {
	if strings.HasPrefix(e.msg, e.sentinel.Error()) {
		return e.msg
	}
	return fmt.Sprintf("%v: %s", e.sentinel, e.msg)
}

func (e *remoteError) Unwrap() error { return e.sentinel }
