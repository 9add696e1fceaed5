// Package apperr is Limelight's one application error type. Domain services
// return *Error with a Code; the GraphQL layer turns the code into
// extensions.code and shows the message, and hides everything else.
package apperr

import (
	"errors"
	"fmt"
)

// Code classifies an error for callers. Codes are part of the API contract.
type Code string

// The codes clients can rely on.
const (
	BadInput     Code = "BAD_INPUT" // the request is malformed or invalid
	NotFound     Code = "NOT_FOUND" // a referenced entity does not exist
	Conflict     Code = "CONFLICT"  // the request conflicts with stored state
	Forbidden    Code = "FORBIDDEN" // the caller may not do this
	Unauthorized Code = "UNAUTHENTICATED"
	RateLimited  Code = "RATE_LIMITED"
	Unavailable  Code = "UNAVAILABLE" // a dependency is down; retrying may help
	Internal     Code = "INTERNAL"    // a bug or an unexpected failure
)

// Error is an error a caller can act on.
type Error struct {
	Code    Code
	Message string // safe to show to the caller
	Err     error  // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with the given code and message that keeps err as its cause.
func Wrap(code Code, err error, message string) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the caller-safe message of err.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
